/**
 * The podman puller: what the Python original did. `podman pull`, then
 * `podman create --pull=never IMAGE true`, `podman export CID` streamed into
 * polythene's own extractor, and always `podman rm CID`.
 *
 * Permissions: `--allow-run=podman`, `--allow-env` for the variables below.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import { runCaptured, spawnPiped } from "../process/spawn.ts";
import type { Log } from "../log.ts";

/** Host variables podman needs to find its storage and credentials. */
export const PODMAN_ENV_VARS = [
  "PATH",
  "HOME",
  "USER",
  "TMPDIR",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "REGISTRY_AUTH_FILE",
  "CONTAINERS_STORAGE_DRIVER",
  "CONTAINERS_EVENTS_BACKEND",
  "CONTAINERS_CONF",
  "CONTAINERS_REGISTRIES_CONF",
  "CONTAINERS_STORAGE_CONF",
] as const;

/**
 * podman's environment: the host's values of {@linkcode PODMAN_ENV_VARS},
 * with `CONTAINERS_STORAGE_DRIVER=vfs` and `CONTAINERS_EVENTS_BACKEND=file`
 * unless they are already set. Pure.
 */
export function podmanEnv(
  hostEnv: (name: string) => string | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PODMAN_ENV_VARS) {
    const value = hostEnv(name);
    if (value !== undefined) env[name] = value;
  }
  env.CONTAINERS_STORAGE_DRIVER ??= "vfs";
  env.CONTAINERS_EVENTS_BACKEND ??= "file";
  env.PATH ??= "/usr/sbin:/usr/bin:/sbin:/bin";
  return env;
}

/** Options for {@linkcode podmanExport}. */
export interface PodmanOptions {
  /** Absolute path of podman. */
  podman: string;
  /** podman's environment (see {@linkcode podmanEnv}). */
  env: Record<string, string>;
  /** Run `podman pull` first (false for `containers-storage:`). */
  pull: boolean;
  /** `--tls-verify=false` for the pull. */
  tlsVerify: boolean;
  /** `os/arch[/variant]` for the pull. */
  platform?: string;
  /** Verbose log. */
  log: Log;
}

/**
 * Exports `image`'s root filesystem as a tar stream into `consume`.
 *
 * @throws {PolytheneError} naming the podman step that failed and its stderr.
 */
export async function podmanExport(
  image: string,
  options: PodmanOptions,
  consume: (tar: ReadableStream<Uint8Array>) => Promise<void>,
): Promise<void> {
  const step = async (args: string[]) => {
    options.log(`podman ${args.join(" ")}`);
    const out = await runCaptured([options.podman, ...args], options.env);
    if (out.code !== 0) {
      throw new PolytheneError(
        `podman ${args[0]} failed for "${image}": ${lastLine(out.stderr)}`,
        { exitCode: 1 },
      );
    }
    return out.stdout.trim();
  };
  if (options.pull) {
    const flags = [`--tls-verify=${options.tlsVerify}`];
    if (options.platform) flags.push(`--platform=${options.platform}`);
    await step(["pull", "--quiet", ...flags, image]);
  }
  const cid = await step(["create", "--pull=never", image, "true"]);
  try {
    const child = spawnPiped([options.podman, "export", cid], options.env);
    const consumed = consume(child.stdout).catch((error) => {
      child.kill("SIGKILL");
      throw error;
    });
    const [, done] = await Promise.all([consumed, child.done]);
    if (done.code !== 0) {
      throw new PolytheneError(
        `podman export failed for "${image}": ${lastLine(done.stderr)}`,
        { exitCode: 1 },
      );
    }
  } finally {
    await runCaptured([options.podman, "rm", "--force", cid], options.env);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
