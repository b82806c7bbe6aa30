/**
 * The Debian test image: `debootstrap --variant=minbase bookworm` from the
 * mirror apt is configured with, packed as one gzip layer, with a config of
 * `Env PATH=...` and `Cmd ["bash"]`. It is built once, as root, and cached
 * outside the repository (default `/var/cache/polythene-test`, or
 * `$POLYTHENE_TEST_CACHE`) as `debian-bookworm-minbase.tar.gz` plus
 * `debian-bookworm-minbase.json`, its digests and how it was made. Later
 * calls reuse the cache; a missing or malformed record means a rebuild.
 *
 * Builds are concurrency-safe: one builder at a time holds an exclusive
 * lock on `.debian-bookworm-minbase.lock` in the cache directory (released
 * by the kernel if the builder dies), works in a `.build-*` directory there,
 * and renames the layer, then the record, into place. A reader that finds
 * the record therefore finds the layer it describes.
 *
 * ```sh
 * deno run -A scripts/debian_image.ts                 # prints the .tar.gz path
 * deno run -A scripts/debian_image.ts --json          # prints the whole record
 * deno run -A scripts/debian_image.ts --oci-layout DIR  # also writes oci:DIR:bookworm
 * ```
 *
 * debootstrap takes a few minutes; its lines go to stderr, prefixed.
 *
 * Permissions: all (`-A`): it runs `debootstrap`, `tar`, `gzip`, `umount`,
 * reads apt's sources, and writes the cache directory.
 *
 * @example
 * ```ts
 * import { debianImage, debianOciImage } from "./debian_image.ts";
 * import { pushImage } from "../tests/helpers/registry.ts";
 * const debian = await debianImage(); // builds on first use (root only)
 * await pushImage(registry, "test/debian", "bookworm", await debianOciImage(debian));
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { hostPlatform, normalizePlatform } from "../src/image/platform.ts";
import {
  type BuiltImage,
  type BuiltLayer,
  MEDIA_TYPES,
  sha256Digest,
  writeOciLayout,
} from "../tests/helpers/oci_image.ts";
import {
  aptMirror,
  type DebianImageMetadata,
  debootstrapArgv,
  imageConfig,
  mountsUnder,
  parseMetadata,
  secondStageArgv,
  type SourcesFile,
  SUITE,
  tarArgv,
  VARIANT,
} from "./_debian_image.ts";

/** Where the image is cached unless `$POLYTHENE_TEST_CACHE` says otherwise. */
export const DEFAULT_CACHE_DIR = "/var/cache/polythene-test";

const NAME = `debian-${SUITE}-${VARIANT}`;

/**
 * The cache's file name stem: `debian-bookworm-minbase`, with `-ARCH` for a
 * foreign architecture (`arch`, a Debian name such as `arm64`).
 */
function nameFor(arch?: string): string {
  return arch === undefined ? NAME : `${NAME}-${arch}`;
}

/** qemu-user's name for the Debian architectures a foreign image may have. */
const QEMU_FOR: Readonly<Record<string, string>> = { arm64: "aarch64" };
const TOOL_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The cached image: its record, and where its files are. */
export interface DebianImage extends DebianImageMetadata {
  /** The gzip layer blob. */
  tarGz: string;
  /** The JSON record beside it. */
  metadataFile: string;
}

/** Options of {@linkcode debianImage}. */
export interface DebianImageOptions {
  /** The cache directory (default {@linkcode debianCacheDir}). */
  cacheDir?: string;
  /** The mirror to debootstrap from (default: apt's, see {@linkcode hostMirror}). */
  mirror?: string;
  /** Progress lines (default: to stderr, prefixed `debian_image: `). */
  log?: (line: string) => void;
  /**
   * A foreign Debian architecture (`arm64`): debootstrap's first stage
   * (`--foreign`), then its second under `proot -q qemu-ARCH-static`.
   * Default: the host's.
   */
  arch?: string;
}

/** `$POLYTHENE_TEST_CACHE`, or {@linkcode DEFAULT_CACHE_DIR}. */
export function debianCacheDir(): string {
  return Deno.env.get("POLYTHENE_TEST_CACHE") || DEFAULT_CACHE_DIR;
}

/**
 * The cached image, without building: undefined when the record is missing
 * or malformed, or the layer's size does not match it.
 */
export async function cachedDebianImage(
  cacheDir = debianCacheDir(),
  arch?: string,
): Promise<DebianImage | undefined> {
  const metadataFile = `${cacheDir}/${nameFor(arch)}.json`;
  const tarGz = `${cacheDir}/${nameFor(arch)}.tar.gz`;
  let meta: DebianImageMetadata | undefined;
  try {
    meta = parseMetadata(await Deno.readTextFile(metadataFile));
    if (meta === undefined) return undefined;
    if ((await Deno.stat(tarGz)).size !== meta.size) return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return { ...meta, tarGz, metadataFile };
}

/**
 * Why {@linkcode debianImage} cannot work here, as a reason for
 * `testNeeding` ("needs root to debootstrap ..."), or undefined when the
 * image is cached or can be built.
 */
export async function debianImageMissing(
  cacheDir = debianCacheDir(),
  arch?: string,
): Promise<string | undefined> {
  if (await cachedDebianImage(cacheDir, arch)) return undefined;
  if (Deno.uid() !== 0) {
    return `needs root to debootstrap the Debian image (not cached in ${cacheDir})`;
  }
  if (!onToolPath("debootstrap")) return "needs debootstrap";
  if (arch !== undefined) {
    const qemu = `qemu-${QEMU_FOR[arch] ?? arch}-static`;
    if (!onToolPath(qemu)) return `needs ${qemu} (qemu-user-static)`;
    if (!onToolPath("proot")) return "needs proot";
  }
  if (await hostMirror() === undefined) {
    return `needs a Debian ${SUITE} mirror in /etc/apt/sources.list*`;
  }
  return undefined;
}

/**
 * The URI of apt's first `deb` source for bookworm, read from
 * `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*` in apt's order.
 */
export async function hostMirror(): Promise<string | undefined> {
  const files: SourcesFile[] = [];
  const read = async (path: string) => {
    try {
      files.push({ path, text: await Deno.readTextFile(path) });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  await read("/etc/apt/sources.list");
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir("/etc/apt/sources.list.d")) {
      names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const name of names.sort()) {
    await read(`/etc/apt/sources.list.d/${name}`);
  }
  return aptMirror(files, SUITE);
}

/**
 * The Debian image, built first when the cache lacks it.
 *
 * @throws {Error} when it must be built and this is not root, debootstrap
 * is missing or fails, or no mirror is configured.
 */
export async function debianImage(
  options: DebianImageOptions = {},
): Promise<DebianImage> {
  const cacheDir = options.cacheDir ?? debianCacheDir();
  const arch = options.arch;
  const cached = await cachedDebianImage(cacheDir, arch);
  if (cached) return cached;
  const log = options.log ?? ((line) => console.error(`debian_image: ${line}`));
  await Deno.mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const lock = await Deno.open(`${cacheDir}/.${nameFor(arch)}.lock`, {
    create: true,
    write: true,
  });
  try {
    log(`waiting for the build lock in ${cacheDir}`);
    await lock.lock(true);
    // Another process may have built it while this one waited.
    const built = await cachedDebianImage(cacheDir, arch);
    if (built) return built;
    const mirror = options.mirror ?? await hostMirror();
    if (mirror === undefined) {
      throw new Error(
        `Cannot build the Debian image: no ${SUITE} mirror in /etc/apt/sources.list*`,
      );
    }
    if (Deno.uid() !== 0) {
      throw new Error(
        `Cannot build the Debian image: debootstrap needs root (uid ${Deno.uid()})`,
      );
    }
    await sweepBuilds(cacheDir, log);
    const work = await Deno.makeTempDir({ dir: cacheDir, prefix: ".build-" });
    try {
      await build(cacheDir, work, mirror, log, arch);
    } finally {
      await removeTree(work, log);
    }
    const image = await cachedDebianImage(cacheDir, arch);
    if (image === undefined) {
      throw new Error(`Cannot read back the Debian image from ${cacheDir}`);
    }
    return image;
  } finally {
    lock.close();
  }
}

async function build(
  cacheDir: string,
  work: string,
  mirror: string,
  log: (line: string) => void,
  arch?: string,
): Promise<void> {
  const NAME = nameFor(arch);
  const root = `${work}/rootfs`;
  log(
    `debootstrap --variant=${VARIANT} ${SUITE}${
      arch ? ` --arch=${arch}` : ""
    } from ${mirror} into ${root} (a few minutes)`,
  );
  const started = performance.now();
  await runLogged(debootstrapArgv(root, mirror, arch), log);
  if (arch !== undefined) {
    const qemu = `qemu-${QEMU_FOR[arch] ?? arch}-static`;
    log(`second stage under proot -q ${qemu}`);
    // debootstrap finds its functions by testing /debootstrap/debootstrap
    // with `[ -x ]`, which proot 5.1 gets wrong under qemu: say where.
    await runLogged(
      secondStageArgv(toolPath("proot"), toolPath(qemu), root),
      log,
      { DEBOOTSTRAP_DIR: "/debootstrap" },
    );
  }
  const debootstrapSeconds = (performance.now() - started) / 1000;
  log(`debootstrap took ${debootstrapSeconds.toFixed(1)} s`);

  const resolvConfFromHost = await tidy(root, log);
  const packStarted = performance.now();
  const members: string[] = [];
  for await (const entry of Deno.readDir(root)) members.push(entry.name);
  const partial = `${work}/${NAME}.tar.gz`;
  log(`packing ${root} into one gzip layer`);
  const packed = await pack(tarArgv(root, members), partial);
  const packSeconds = (performance.now() - packStarted) / 1000;
  log(
    `packed ${mib(packed.tarSize)} MiB into ${mib(packed.size)} MiB in ` +
      `${packSeconds.toFixed(1)} s`,
  );
  const meta: DebianImageMetadata = {
    version: 1,
    suite: SUITE,
    variant: VARIANT,
    mirror,
    platform: arch === undefined
      ? hostPlatform()
      : normalizePlatform({ os: "linux", architecture: arch }),
    ...packed,
    created: new Date().toISOString(),
    debootstrapSeconds: round1(debootstrapSeconds),
    packSeconds: round1(packSeconds),
    resolvConfFromHost,
  };
  // The layer first, then the record that vouches for it.
  await Deno.rename(partial, `${cacheDir}/${NAME}.tar.gz`);
  const record = `${work}/${NAME}.json`;
  await Deno.writeTextFile(record, `${JSON.stringify(meta, null, 2)}\n`);
  await Deno.chmod(record, 0o644);
  await Deno.rename(record, `${cacheDir}/${NAME}.json`);
  log(`cached in ${cacheDir}/${NAME}.tar.gz`);
}

/**
 * Makes the tree an image: no device nodes in /dev (a runtime provides
 * them), no apt lists or caches (the image is `apt-get update`d before
 * use), and the host's /etc/resolv.conf when debootstrap left none.
 *
 * @returns Whether the image's /etc/resolv.conf is a copy of the host's.
 */
async function tidy(root: string, log: (line: string) => void) {
  for (const dir of ["dev", "var/lib/apt/lists", "var/cache/apt"]) {
    await emptyDir(`${root}/${dir}`);
  }
  await Deno.mkdir(`${root}/var/lib/apt/lists/partial`, { recursive: true });
  await Deno.mkdir(`${root}/var/cache/apt/archives/partial`, {
    recursive: true,
  });
  const hostResolv = await Deno.readTextFile("/etc/resolv.conf").catch(() =>
    undefined
  );
  let imageResolv: string | undefined;
  try {
    // lstat: a symlink (systemd-resolved style) is not the host's copy.
    if ((await Deno.lstat(`${root}/etc/resolv.conf`)).isFile) {
      imageResolv = await Deno.readTextFile(`${root}/etc/resolv.conf`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (imageResolv === undefined && hostResolv !== undefined) {
    log("copying the host's /etc/resolv.conf into the image");
    await Deno.remove(`${root}/etc/resolv.conf`).catch(() => {});
    await Deno.writeTextFile(`${root}/etc/resolv.conf`, hostResolv);
    imageResolv = hostResolv;
  }
  return imageResolv !== undefined && imageResolv === hostResolv;
}

async function emptyDir(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * `tar ARGV | gzip -n`, into `file`, hashing both streams on the way.
 *
 * @returns The layer's digest and size and its tar's diff_id and size.
 */
async function pack(argv: string[], file: string) {
  const tar = spawn(argv, { stdin: "null", stdout: "piped" });
  const gzip = spawn(["gzip", "-n", "-6"], { stdin: "piped", stdout: "piped" });
  const tarHash = createHash("sha256");
  const gzHash = createHash("sha256");
  let tarSize = 0;
  let size = 0;
  const out = await Deno.open(file, {
    create: true,
    write: true,
    truncate: true,
    mode: 0o644,
  });
  const feeding = tar.process.stdout.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tarHash.update(chunk);
        tarSize += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  ).pipeTo(gzip.process.stdin);
  const writing = gzip.process.stdout.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        gzHash.update(chunk);
        size += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  ).pipeTo(out.writable);
  const [tarStatus, gzipStatus] = await Promise.all([
    tar.done,
    gzip.done,
    feeding,
    writing,
  ]);
  for (
    const [status, what] of [[tarStatus, tar], [gzipStatus, gzip]] as const
  ) {
    if (!status.success) {
      throw new Error(
        `Cannot pack the Debian image: ${
          what.argv[0]
        } exited ${status.code}: ${what.stderr()}`,
      );
    }
  }
  return {
    digest: `sha256:${gzHash.digest("hex")}`,
    size,
    diffId: `sha256:${tarHash.digest("hex")}`,
    tarSize,
  };
}

/** A spawned tool whose stderr is kept (the last 16 KiB) for its error. */
function spawn(
  argv: string[],
  stdio: { stdin: "null" | "piped"; stdout: "piped" },
) {
  const process = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    clearEnv: true,
    env: { PATH: TOOL_PATH, LC_ALL: "C" },
    ...stdio,
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const draining = process.stderr.pipeThrough(new TextDecoderStream())
    .pipeTo(
      new WritableStream({
        write(text) {
          stderr = (stderr + text).slice(-16384);
        },
      }),
    );
  return {
    argv,
    process,
    stderr: () => stderr.trim(),
    done: draining.then(() => process.status),
  };
}

/**
 * Runs `argv` as a build step, each line of its stdout and stderr passed
 * to `log`.
 *
 * @throws {Error} with the last lines when it fails.
 */
async function runLogged(
  argv: string[],
  log: (line: string) => void,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    clearEnv: true,
    env: {
      PATH: TOOL_PATH,
      LC_ALL: "C",
      DEBIAN_FRONTEND: "noninteractive",
      ...extraEnv,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const lines = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        log(`${argv[0]}: ${line}`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    }
    if (rest) log(`${argv[0]}: ${rest}`);
  };
  const [, , status] = await Promise.all([
    lines(child.stdout),
    lines(child.stderr),
    child.status,
  ]);
  if (!status.success) {
    throw new Error(
      `Cannot build the Debian image: ${
        argv.join(" ")
      } exited ${status.code}:\n${tail.join("\n")}`,
    );
  }
}

/**
 * Removes `.build-*` directories that a killed builder left. Only a holder
 * of the build lock calls this, so none of them is in use.
 */
async function sweepBuilds(cacheDir: string, log: (line: string) => void) {
  for await (const entry of Deno.readDir(cacheDir)) {
    if (entry.isDirectory && entry.name.startsWith(".build-")) {
      log(`removing an interrupted build, ${cacheDir}/${entry.name}`);
      await removeTree(`${cacheDir}/${entry.name}`, log);
    }
  }
}

/**
 * Removes a build tree, first unmounting anything debootstrap left mounted
 * in it (its /proc and /sys, when it was killed), so that the removal
 * cannot reach into the host's pseudo-filesystems.
 */
async function removeTree(dir: string, log: (line: string) => void) {
  const mountinfo = await Deno.readTextFile("/proc/self/mountinfo");
  for (const point of mountsUnder(mountinfo, await Deno.realPath(dir))) {
    log(`unmounting ${point}`);
    const out = await new Deno.Command("umount", {
      args: ["--lazy", "--", point],
      clearEnv: true,
      env: { PATH: TOOL_PATH },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `Cannot unmount ${point}, so ${dir} is left in place: ${
          new TextDecoder().decode(out.stderr).trim()
        }`,
      );
    }
  }
  await Deno.remove(dir, { recursive: true });
}

/**
 * The image as the test rig's pusher and layout writer take it, reading
 * the layer blob into memory (about 50 MiB) and checking its digest. The
 * layer's uncompressed `tar`, which they do not use, is decompressed only
 * if something reads it.
 *
 * @throws {Error} when the cached blob does not match its record.
 */
export async function debianOciImage(image: DebianImage): Promise<BuiltImage> {
  const blob = await Deno.readFile(image.tarGz);
  const digest = await sha256Digest(blob);
  if (digest !== image.digest) {
    throw new Error(
      `The cached Debian layer is corrupt: ${image.tarGz} is ${digest}, ` +
        `its record says ${image.digest}; remove ${image.metadataFile} to rebuild`,
    );
  }
  let tar: Uint8Array | undefined;
  const layer: BuiltLayer = {
    descriptor: {
      mediaType: MEDIA_TYPES.ociLayerGzip,
      digest: image.digest,
      size: image.size,
    },
    blob,
    get tar() {
      return tar ??= new Uint8Array(gunzipSync(blob));
    },
    diffId: image.diffId,
  };
  const config = imageConfig(image);
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDescriptor = {
    mediaType: MEDIA_TYPES.ociConfig,
    digest: await sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifest = {
    schemaVersion: 2 as const,
    mediaType: MEDIA_TYPES.ociManifest,
    config: configDescriptor,
    layers: [layer.descriptor],
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  return {
    kind: "image",
    format: "oci",
    mediaType: manifest.mediaType,
    digest: await sha256Digest(manifestBytes),
    bytes: manifestBytes,
    manifest,
    manifestBytes,
    config,
    configBytes,
    configDescriptor,
    layers: [layer],
    platform: image.platform,
    blobs: new Map([
      [configDescriptor.digest, configBytes],
      [image.digest, blob],
    ]),
  };
}

/** The absolute path of `program` on the tool PATH. */
function toolPath(program: string): string {
  for (const dir of TOOL_PATH.split(":")) {
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return `${dir}/${program}`;
    } catch {
      // Not here.
    }
  }
  throw new Error(`Cannot build the Debian image: ${program} is not on PATH`);
}

function onToolPath(program: string): boolean {
  return TOOL_PATH.split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${program}`).isFile;
    } catch {
      return false;
    }
  });
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function round1(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

const USAGE =
  "Usage: deno run -A scripts/debian_image.ts [--cache DIR] [--mirror URL] " +
  "[--json] [--oci-layout DIR] [--arch arm64]";

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        cache: { type: "string" },
        mirror: { type: "string" },
        json: { type: "boolean" },
        "oci-layout": { type: "string" },
        arch: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`debian_image: ${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const image = await debianImage({
      cacheDir: values.cache,
      mirror: values.mirror,
      arch: values.arch,
    });
    if (values["oci-layout"] !== undefined) {
      await writeOciLayout(
        values["oci-layout"],
        await debianOciImage(image),
        SUITE,
      );
      console.error(
        `debian_image: wrote oci:${values["oci-layout"]}:${SUITE}`,
      );
    }
    console.log(values.json ? JSON.stringify(image, null, 2) : image.tarGz);
  } catch (error) {
    console.error(
      `debian_image: ${error instanceof Error ? error.message : error}`,
    );
    Deno.exit(1);
  }
}
