/**
 * Fixtures for the extraction tests: a staging rootfs with host sentinel
 * files around it, whose content, metadata and listings are fingerprinted
 * before and checked after; tree snapshots; layer streams.
 *
 * (Shared by `tests/e2e/extract_*_test.ts`; it belongs in `tests/helpers/`.)
 *
 * @module
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../../helpers/assert.ts";
import { tarBytes, type TarEntry } from "../../helpers/tar_writer.ts";

/** A staging rootfs with sentinels outside it. */
export interface Sandbox {
  /** The temporary directory holding everything below. */
  base: string;
  /** The rootfs layers are applied to: `BASE/staging/rootfs`. */
  rootfs: string;
  /** A sibling of the staging dir: `BASE/host`, with `file` and `dir/inner`. */
  host: string;
  /**
   * A directory in `/tmp` (or `$POLYTHENE_SENTINEL_DIR`), outside BASE, with
   * a file `file`.
   */
  tmp: string;
  /** Asserts that nothing outside the staging dir changed or appeared. */
  assertHostUntouched(): Promise<void>;
  /** Removes BASE and the `/tmp` directory. */
  cleanup(): Promise<void>;
}

/** Host files every hostile test watches, besides the sandbox's own. */
export const WATCHED_HOST_FILES = ["/etc/passwd", "/etc/hostname"];

/**
 * A function that registers `PREFIX: NAME` tests, each with a fresh
 * sandbox whose host side is checked once the test is done, then cleaned
 * up. When `here` is false (the file runs in the jail instead, see
 * `tests/helpers/jailed_file.ts`) it registers nothing.
 */
export function sandboxTests(
  prefix: string,
  here: boolean,
): (name: string, fn: (sb: Sandbox) => Promise<void>) => void {
  return (name, fn) => {
    if (!here) return;
    Deno.test(`${prefix}: ${name}`, async () => {
      const sb = await makeSandbox();
      try {
        await fn(sb);
        await sb.assertHostUntouched();
      } finally {
        await sb.cleanup();
      }
    });
  };
}

/** Makes a sandbox and fingerprints its sentinels. */
export async function makeSandbox(): Promise<Sandbox> {
  const base = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "polythene-extract-" }),
  );
  await Deno.chmod(base, 0o755);
  const rootfs = `${base}/staging/rootfs`;
  await Deno.mkdir(rootfs, { recursive: true });
  const host = `${base}/host`;
  await Deno.mkdir(`${host}/dir`, { recursive: true });
  await Deno.writeTextFile(`${host}/file`, "host sentinel\n");
  await Deno.writeTextFile(`${host}/dir/inner`, "inner sentinel\n");
  const tmp = await Deno.realPath(
    await Deno.makeTempDir({
      // In the jail (see tests/helpers/jailed_file.ts) /tmp is read-only.
      dir: Deno.env.get("POLYTHENE_SENTINEL_DIR") ?? "/tmp",
      prefix: "polythene-sentinel-",
    }),
  );
  await Deno.chmod(tmp, 0o755);
  await Deno.writeTextFile(`${tmp}/file`, "tmp sentinel\n");
  const before = await fingerprint(base, host, tmp);
  return {
    base,
    rootfs,
    host,
    tmp,
    async assertHostUntouched() {
      assertEquals(await fingerprint(base, host, tmp), before);
    },
    async cleanup() {
      await Deno.remove(base, { recursive: true }).catch(() => {});
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    },
  };
}

/** Everything outside the rootfs that a hostile layer could touch. */
async function fingerprint(base: string, host: string, tmp: string) {
  const files: Record<string, string> = {};
  for (
    const path of [
      ...WATCHED_HOST_FILES,
      `${host}/file`,
      `${host}/dir/inner`,
      `${tmp}/file`,
    ]
  ) {
    const info = await Deno.lstat(path);
    files[path] = `${sha256(await Deno.readFile(path))} mode=${info.mode} ` +
      `uid=${info.uid} nlink=${info.nlink} mtime=${info.mtime?.getTime()}`;
  }
  return {
    files,
    base: await names(base),
    staging: await names(`${base}/staging`),
    host: await snapshot(host),
    tmp: await snapshot(tmp),
  };
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

/** One line per path below `dir`: type, mode, owner, size or target, content hash. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of await names(`${dir}${rel}`)) {
      const path = `${rel}/${name}`;
      out[path] = await describe(`${dir}${path}`);
      if ((await Deno.lstat(`${dir}${path}`)).isDirectory) await walk(path);
    }
  };
  await walk("");
  return out;
}

/** `TYPE MODE UID:GID` plus the target, the content or the device number. */
export async function describe(path: string): Promise<string> {
  const info = await Deno.lstat(path);
  const mode = ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0");
  const head = `${mode} ${info.uid}:${info.gid}`;
  if (info.isSymlink) return `symlink ${head} -> ${await Deno.readLink(path)}`;
  if (info.isDirectory) return `dir ${head}`;
  if (info.isFile) {
    const text = new TextDecoder().decode(await Deno.readFile(path));
    return `file ${head} ${JSON.stringify(text)}`;
  }
  if (info.isCharDevice) return `char ${head} ${info.rdev}`;
  if (info.isBlockDevice) return `block ${head} ${info.rdev}`;
  if (info.isFifo) return `fifo ${head}`;
  return `other ${head}`;
}

/** A layer stream from entries (uncompressed tar). */
export function layer(
  entries: readonly TarEntry[],
): ReadableStream<Uint8Array> {
  return bytesStream(tarBytes(entries));
}

/** `bytes` as a stream of 64 KiB chunks. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let off = 0; off < bytes.length; off += 64 * 1024) {
        controller.enqueue(bytes.subarray(off, off + 64 * 1024));
      }
      controller.close();
    },
  });
}

/** Hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Runs `fn` and returns the error it rejects with (fails if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected a rejection");
}

/** Whether anything exists at `path` (without following a symlink). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

/**
 * A ustar header block for a member of `size` bytes, whose body the caller
 * streams (`tarBytes` needs the content in memory). `name` ≤ 100 bytes.
 */
export function ustarHeader(
  name: string,
  size: number,
  typeflag = "0",
): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, text: string) =>
    block.set(encoder.encode(text), offset);
  const octal = (offset: number, length: number, value: number) =>
    put(offset, value.toString(8).padStart(length - 1, "0"));
  put(0, name);
  octal(100, 8, typeflag === "5" ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 1_700_000_000);
  put(148, "        ");
  put(156, typeflag);
  put(257, "ustar\0");
  put(263, "00");
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/** A stream pulled from `chunks`; `pulled()` counts the chunks taken. */
export function lazyStream(chunks: Iterator<Uint8Array>): {
  stream: ReadableStream<Uint8Array>;
  pulled: () => number;
  cancelled: () => boolean;
} {
  let count = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else {
        count++;
        controller.enqueue(next.value);
      }
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => count, cancelled: () => cancelled };
}

/** Bytes a directory tree takes on disk (allocated blocks). */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const walk = async (path: string) => {
    const info = await Deno.lstat(path);
    total += (info.blocks ?? 0) * 512;
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) {
        await walk(`${path}/${entry.name}`);
      }
    }
  };
  await walk(dir);
  return total;
}
