/**
 * The arm64 busybox test image: Debian's `busybox-static:arm64`, fetched with
 * `apt-get download` (after `dpkg --add-architecture arm64`) and unpacked
 * with `dpkg-deb -x`. Its `bin/busybox` and applet list (asked of it under
 * `qemu-aarch64-static`) are cached in `/var/cache/polythene-test` (or
 * `$POLYTHENE_TEST_CACHE`) as `busybox-static-arm64` and
 * `busybox-static-arm64.list`; the list is renamed into place last, so a
 * reader that finds it finds the binary. Built once, as root.
 *
 * ```sh
 * deno run -A scripts/busybox_arm64.ts     # prints the cached binary's path
 * ```
 *
 * Permissions: all (`-A`): it runs dpkg, apt-get and qemu-aarch64-static.
 *
 * @module
 */

import { normalizePlatform } from "../src/image/platform.ts";
import { buildImage, type BuiltImage } from "../tests/helpers/oci_image.ts";
import { busyboxEntries } from "./busybox_image.ts";
import { debianCacheDir } from "./debian_image.ts";

const NAME = "busybox-static-arm64";
const QEMU = "qemu-aarch64-static";
const TOOL_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The cached arm64 busybox. */
export interface Arm64Busybox {
  /** The arm64 `busybox` binary. */
  binary: string;
  /** Its applets, as `--list-full` prints them (`bin/sh`, ...). */
  applets: string[];
}

/** The cached busybox, without building; undefined when absent. */
export async function cachedArm64Busybox(
  cacheDir = debianCacheDir(),
): Promise<Arm64Busybox | undefined> {
  try {
    const list = await Deno.readTextFile(`${cacheDir}/${NAME}.list`);
    const binary = `${cacheDir}/${NAME}`;
    await Deno.stat(binary);
    return { binary, applets: list.split("\n").filter((l) => l !== "") };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Why the image cannot be had here (for `testNeeding`), or undefined. */
export async function arm64BusyboxMissing(
  cacheDir = debianCacheDir(),
): Promise<string | undefined> {
  if (await cachedArm64Busybox(cacheDir)) return undefined;
  if (Deno.uid() !== 0) {
    return `needs root to fetch busybox-static:arm64 (not cached in ${cacheDir})`;
  }
  if (toolPath(QEMU) === undefined) return `needs ${QEMU} (qemu-user-static)`;
  return undefined;
}

/** The cached busybox, fetched first when absent (root only). */
export async function arm64Busybox(
  cacheDir = debianCacheDir(),
  log: (line: string) => void = (l) => console.error(`busybox_arm64: ${l}`),
): Promise<Arm64Busybox> {
  const cached = await cachedArm64Busybox(cacheDir);
  if (cached) return cached;
  await Deno.mkdir(cacheDir, { recursive: true, mode: 0o755 });
  using lock = await Deno.open(`${cacheDir}/.${NAME}.lock`, {
    create: true,
    write: true,
  });
  await lock.lock(true);
  const built = await cachedArm64Busybox(cacheDir);
  if (built) return built;
  const started = performance.now();
  const foreign = await run(["dpkg", "--print-foreign-architectures"]);
  if (!foreign.split("\n").includes("arm64")) {
    log("dpkg --add-architecture arm64; apt-get update");
    await run(["dpkg", "--add-architecture", "arm64"]);
    await run(["apt-get", "update", "-qq"]);
  }
  const work = await Deno.makeTempDir({ dir: cacheDir, prefix: ".build-" });
  try {
    // _apt downloads into the directory: let it.
    await Deno.chmod(work, 0o777);
    log("apt-get download busybox-static:arm64");
    await run(["apt-get", "download", "-qq", "busybox-static:arm64"], work);
    const deb = [...Deno.readDirSync(work)].find((e) =>
      e.name.endsWith(".deb")
    );
    if (deb === undefined) throw new Error("apt-get download left no .deb");
    await run(["dpkg-deb", "-x", `${work}/${deb.name}`, `${work}/tree`]);
    const binary = `${work}/tree/bin/busybox`;
    const qemu = toolPath(QEMU);
    if (qemu === undefined) throw new Error(`${QEMU} is not on PATH`);
    const list = await run([qemu, binary, "--list-full"]);
    await Deno.rename(binary, `${cacheDir}/${NAME}`);
    await Deno.writeTextFile(`${work}/list`, list);
    await Deno.chmod(`${work}/list`, 0o644);
    await Deno.rename(`${work}/list`, `${cacheDir}/${NAME}.list`);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  log(
    `cached in ${cacheDir}/${NAME} in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  return (await cachedArm64Busybox(cacheDir))!;
}

/** The arm64 busybox as an in-memory image (platform linux/arm64/v8). */
export async function arm64BusyboxImage(
  busybox: Arm64Busybox,
): Promise<BuiltImage> {
  return await buildImage({
    layers: [{
      entries: await busyboxEntries(busybox.binary, busybox.applets),
      compression: "gzip",
    }],
    config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    platform: normalizePlatform({ os: "linux", architecture: "arm64" }),
  });
}

function toolPath(program: string): string | undefined {
  for (const dir of TOOL_PATH.split(":")) {
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return `${dir}/${program}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function run(argv: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    clearEnv: true,
    env: { PATH: TOOL_PATH, LC_ALL: "C", DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${argv.join(" ")} exited ${out.code}: ${text.decode(out.stderr).trim()}`,
    );
  }
  return text.decode(out.stdout);
}

if (import.meta.main) {
  try {
    console.log((await arm64Busybox()).binary);
  } catch (error) {
    console.error(`busybox_arm64: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
