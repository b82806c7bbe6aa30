/**
 * What the `pull` end-to-end tests check, as a user would: the exit code,
 * stdout being exactly the new UUIDv7, one clear stderr line naming the
 * image on failure, the entry's files and metadata, and that a failed pull
 * leaves no entry and no staging directory behind. Also the shared image
 * parts (a busybox layer) and temporary stores.
 *
 * Permissions: `--allow-read`, `--allow-write` (temporary stores),
 * `--allow-run=chown` for stores owned by another user.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { CliResult, TestUser } from "./cli.ts";
import type { TarEntry } from "./tar_writer.ts";

/** A UUIDv7 in its canonical text form. */
export const UUID_V7 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Everything the CLI printed, for assertion messages. */
export function explain(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout.slice(0, 2000)}` +
    `\n--- stderr\n${result.stderr.slice(0, 4000)}`;
}

/**
 * Asserts a successful pull: exit 0 and stdout exactly one UUIDv7 line.
 *
 * @returns the UUID
 */
export function assertPulled(result: CliResult): string {
  assert.equal(result.code, 0, `pull succeeds\n${explain(result)}`);
  const uuid = result.stdout.replace(/\n$/, "");
  assert.match(
    result.stdout,
    /^[^\n]+\n$/,
    `one stdout line\n${explain(result)}`,
  );
  assert.match(uuid, UUID_V7, `stdout is a UUIDv7\n${explain(result)}`);
  return uuid;
}

/** A line of pull's progress in a log (see `src/cli/progress.ts`). */
export const PROGRESS_LINE =
  /^pull \S.*: (layer \d+\/\d+|podman export)\b.*(: started|\/s\).*)$/;

/**
 * Asserts a failed pull: the exit code, nothing on stdout, a first stderr
 * line that names the image (and, for exit 1, no other line but a hint),
 * then that `store` holds no entry besides `before` and no staging leftover.
 */
export async function assertFailed(
  result: CliResult,
  options: {
    store: string;
    image: string;
    code?: number;
    before?: readonly string[];
    matches?: RegExp;
  },
): Promise<void> {
  const why = explain(result);
  assert.equal(result.code, options.code ?? 1, `exit code\n${why}`);
  assert.equal(result.stdout, "", `nothing on stdout\n${why}`);
  // Progress lines (stderr is not a terminal) come before the error.
  const lines = result.stderr.trimEnd().split("\n")
    .filter((line) => !PROGRESS_LINE.test(line));
  const first = lines[0] ?? "";
  assert.ok(first.includes(`"${options.image}`), `names the image\n${why}`);
  if ((options.code ?? 1) === 1) {
    assert.ok(
      lines.length === 1 ||
        (lines.length === 2 && lines[1]!.startsWith("hint:")),
      `one clear line\n${why}`,
    );
  }
  if (options.matches) assert.match(first, options.matches, why);
  await assertNoNewEntry(options.store, options.before ?? []);
}

/** Asserts `store` holds exactly the entries `before` and nothing staged. */
export async function assertNoNewEntry(
  store: string,
  before: readonly string[],
): Promise<void> {
  assert.deepEqual(await entries(store), [...before].sort(), "no new entry");
  assert.deepEqual(await stagingLeftovers(store), [], "no staging leftover");
}

/** The names in `store` besides `.polythene`, sorted ([] when absent). */
export async function entries(store: string): Promise<string[]> {
  return (await names(store)).filter((n) => n !== ".polythene");
}

/** What is left in `STORE/.polythene/staging`, sorted. */
export function stagingLeftovers(store: string): Promise<string[]> {
  return names(`${store}/.polythene/staging`);
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch (error) {
    const absent = error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory;
    if (!absent) throw error;
  }
  return out.sort();
}

/**
 * Asserts that every file of the store's blob cache is named after its
 * sha256 and that no temporary file is left.
 *
 * @returns the cached digests
 */
export async function assertCacheConsistent(store: string): Promise<string[]> {
  const dir = `${store}/.polythene/blobs/sha256`;
  const found: string[] = [];
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const name of names) {
    assert.match(name, /^[a-f0-9]{64}$/, `no stray file: ${name}`);
    const hash = createHash("sha256")
      .update(await Deno.readFile(`${dir}/${name}`))
      .digest("hex");
    assert.equal(hash, name, `cached blob ${name} is intact`);
    found.push(`sha256:${name}`);
  }
  return found.sort();
}

/** An entry's `STORE/.polythene/entries/<uuid>.json`, parsed. */
export interface PulledMetadata {
  schema: number;
  uuid: string;
  reference: string;
  normalized?: string;
  digest?: string;
  platform?: { os: string; architecture: string; variant?: string };
  puller: string;
  created: string;
  size: number;
  config?: { Env?: string[]; Cmd?: string[]; [key: string]: unknown };
  ownership?: Record<
    string,
    { uid: number; gid: number; mode: number; device?: unknown }
  >;
}

/** Reads an entry's metadata file (it must exist). */
export async function readMetadata(
  store: string,
  uuid: string,
): Promise<PulledMetadata> {
  return JSON.parse(
    await Deno.readTextFile(`${store}/.polythene/entries/${uuid}.json`),
  );
}

/**
 * Asserts the entry's metadata and `.polythene-meta` for a pull of `image`.
 *
 * @returns the metadata
 */
export async function assertEntry(
  store: string,
  uuid: string,
  expected: {
    image: string;
    puller?: "native" | "podman";
    digest?: string;
    platform?: PulledMetadata["platform"];
    config?: PulledMetadata["config"];
  },
): Promise<PulledMetadata> {
  const meta = await readMetadata(store, uuid);
  assert.equal(meta.uuid, uuid);
  assert.equal(meta.reference, expected.image);
  assert.equal(meta.puller, expected.puller ?? "native");
  if (expected.digest !== undefined) assert.equal(meta.digest, expected.digest);
  if (expected.platform !== undefined) {
    assert.deepEqual(meta.platform, expected.platform);
  }
  if (expected.config !== undefined) {
    assert.deepEqual(meta.config, expected.config);
  }
  assert.match(meta.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok(Math.abs(Date.parse(meta.created) - Date.now()) < 10 * 60_000);
  assert.ok(Number.isInteger(meta.size) && meta.size > 0, "size recorded");
  const legacy = await Deno.readTextFile(`${store}/${uuid}/.polythene-meta`);
  assert.equal(
    legacy,
    `image=${expected.image}\ncreated=${
      meta.created.replace(/\.\d+Z$/, "Z")
    }\n`,
  );
  return meta;
}

/**
 * A description of every path under `root` (relative, sorted): type, mode
 * bits (setuid included), owner, content hash, link target, device numbers,
 * and for hardlinked files the first path sharing the inode; with `mtimes`,
 * modification times (not of symlinks). `.polythene-meta` is left out: it
 * differs between pulls.
 */
export async function snapshot(
  root: string,
  options: { owners?: boolean; mtimes?: boolean } = {},
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = async (dir: string, prefix: string) => {
    const children: string[] = [];
    for await (const entry of Deno.readDir(dir)) children.push(entry.name);
    for (const name of children.sort()) {
      const rel = prefix + name;
      if (rel === ".polythene-meta") continue;
      const path = `${dir}/${name}`;
      const info = await Deno.lstat(path);
      const mode = ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0");
      const owner =
        (options.owners === false ? "" : ` ${info.uid}:${info.gid}`) +
        (options.mtimes ? ` @${info.mtime?.getTime()}` : "");
      if (info.isSymlink) {
        out[rel] = `symlink -> ${await Deno.readLink(path)}`;
      } else if (info.isDirectory) {
        out[rel] = `dir ${mode}${owner}`;
        await walk(path, `${rel}/`);
      } else if (info.isFile) {
        const hash = createHash("sha256")
          .update(await Deno.readFile(path))
          .digest("hex").slice(0, 16);
        let text = `file ${mode}${owner} ${hash}`;
        if ((info.nlink ?? 1) > 1 && info.ino !== null) {
          const first = inodes.get(info.ino) ?? rel;
          inodes.set(info.ino, first);
          text += ` =${first}`;
        }
        out[rel] = text;
      } else {
        const kind = info.isCharDevice
          ? "char"
          : info.isBlockDevice
          ? "block"
          : info.isFifo
          ? "fifo"
          : "other";
        out[rel] = `${kind} ${mode}${owner} ${info.rdev ?? ""}`.trimEnd();
      }
    }
  };
  await walk(root, "");
  return out;
}

/** How {@linkcode snapshot} describes a file of `content`. */
export function fileLine(
  mode: number,
  content: string | Uint8Array,
  owner = "0:0",
  hardlinkOf?: string,
): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 16);
  return `file ${mode.toString(8).padStart(4, "0")} ${owner} ${hash}` +
    (hardlinkOf ? ` =${hardlinkOf}` : "");
}

/** How {@linkcode snapshot} describes a directory. */
export function dirLine(mode = 0o755, owner = "0:0"): string {
  return `dir ${mode.toString(8).padStart(4, "0")} ${owner}`;
}

/** Debian's busybox-static, which the images run. */
export const BUSYBOX = "/bin/busybox";

/** `bin/busybox` plus `bin/NAME` symlinks to it, as layer members. */
export function busyboxEntries(
  applets: readonly string[] = ["sh", "cat", "ls", "echo", "id", "stat"],
): TarEntry[] {
  return [
    { name: "bin/", type: "dir", mode: 0o755 },
    {
      name: "bin/busybox",
      content: Deno.readFileSync(BUSYBOX),
      mode: 0o755,
    },
    ...applets.map((applet): TarEntry => ({
      name: `bin/${applet}`,
      type: "symlink",
      linkname: "busybox",
    })),
  ];
}

/** `size` random bytes: content that does not compress. */
export function noise(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  }
  return bytes;
}

/** A temporary directory holding a store path (not yet created). */
export interface TempStore extends AsyncDisposable {
  /** The enclosing temporary directory (mode 0755). */
  dir: string;
  /** `DIR/store`; created (and chowned) only when `owner` is given. */
  store: string;
  /** Removes the whole temporary directory. */
  cleanup(): Promise<void>;
}

/**
 * A fresh temporary store path; with `owner`, the store directory exists
 * and belongs to that user.
 */
export async function tempStore(owner?: TestUser): Promise<TempStore> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-pull-" });
  await Deno.chmod(dir, 0o755);
  const store = `${dir}/store`;
  if (owner !== undefined) {
    await Deno.mkdir(store, { mode: 0o700 });
    await Deno.chown(store, owner.uid, owner.gid);
  }
  const cleanup = async () => {
    // Images hold read-only directories; make them writable first.
    await new Deno.Command("chmod", {
      args: ["-R", "u+rwX", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    await Deno.remove(dir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  };
  return { dir, store, cleanup, [Symbol.asyncDispose]: cleanup };
}
