/**
 * The podman puller: what the Python original did. `podman pull`, then
 * `podman create --pull=never IMAGE true`, `podman image inspect IMAGE` for
 * the metadata every puller records (the config's Env, WorkingDir, User,
 * Entrypoint, Cmd and Labels, the digest and the platform), `podman export
 * CID` streamed into polythene's own extractor, and always `podman rm CID`.
 *
 * Permissions: `--allow-run=podman`, `--allow-env` for the variables below.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import { runCaptured, spawnPiped } from "../process/spawn.ts";
import type { Log } from "../log.ts";
import { isLoopbackHost, registryHostname } from "./registry/redirect.ts";
import type { ImageConfig, Platform } from "./types.ts";

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
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
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
  /**
   * `--tls-verify=false` for the pull when false (see
   * {@linkcode podmanTlsVerify}).
   */
  tlsVerify: boolean;
  /** `os/arch[/variant]` for the pull. */
  platform?: string;
  /** Verbose log. */
  log: Log;
}

/**
 * Whether podman should verify TLS for a pull from `registry`
 * (`HOST[:PORT]`): never for a loopback host, where the native puller allows
 * plain http too, else as `--tls-verify` says. Pure.
 */
export function podmanTlsVerify(
  tlsVerify: boolean,
  registry: string | undefined,
): boolean {
  if (registry === undefined) return tlsVerify;
  return tlsVerify && !isLoopbackHost(registryHostname(registry));
}

/** What podman says about an image: what every puller records. */
export interface PodmanImageFacts {
  /** The runtime config: Env, WorkingDir, User, Entrypoint, Cmd, Labels. */
  config?: ImageConfig["config"];
  /** The manifest digest (`sha256:...`). */
  digest?: string;
  /** The image's platform. */
  platform?: Platform;
}

/**
 * The facts of {@linkcode PodmanImageFacts} from `podman image inspect`'s
 * JSON (an array of one object). Values of the wrong type are left out.
 * Pure.
 */
export function imageFactsOf(inspectJson: string): PodmanImageFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inspectJson);
  } catch {
    return {};
  }
  const image = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!isRecord(image)) return {};
  const facts: PodmanImageFacts = {};
  const raw = isRecord(image.Config) ? image.Config : {};
  const config: NonNullable<ImageConfig["config"]> = {};
  if (isStrings(raw.Env)) config.Env = raw.Env;
  if (typeof raw.WorkingDir === "string" && raw.WorkingDir !== "") {
    config.WorkingDir = raw.WorkingDir;
  }
  if (typeof raw.User === "string" && raw.User !== "") config.User = raw.User;
  if (isStrings(raw.Entrypoint)) config.Entrypoint = raw.Entrypoint;
  if (isStrings(raw.Cmd)) config.Cmd = raw.Cmd;
  if (isRecord(raw.Labels) && Object.values(raw.Labels).every(isString)) {
    config.Labels = raw.Labels as Record<string, string>;
  }
  if (Object.keys(config).length > 0) facts.config = config;
  if (
    typeof image.Digest === "string" &&
    /^sha256:[0-9a-f]{64}$/.test(image.Digest)
  ) {
    facts.digest = image.Digest;
  }
  if (isString(image.Os) && isString(image.Architecture)) {
    facts.platform = { os: image.Os, architecture: image.Architecture };
    if (isString(image.Variant) && image.Variant !== "") {
      facts.platform.variant = image.Variant;
    }
  }
  return facts;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

/**
 * Exports `image`'s root filesystem as a tar stream into `consume`.
 *
 * @returns What `podman image inspect` says about the image.
 * @throws {PolytheneError} naming the podman step that failed and its stderr.
 */
export async function podmanExport(
  image: string,
  options: PodmanOptions,
  consume: (tar: ReadableStream<Uint8Array>) => Promise<void>,
): Promise<PodmanImageFacts> {
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
    // Only ever false: an explicit --tls-verify=true would override
    // registries.conf's `insecure`, which podman applies by itself.
    const flags = options.tlsVerify ? [] : ["--tls-verify=false"];
    if (options.platform) flags.push(`--platform=${options.platform}`);
    await step(["pull", "--quiet", ...flags, image]);
  }
  const cid = await step(["create", "--pull=never", image, "true"]);
  try {
    const facts = imageFactsOf(
      await step(["image", "inspect", "--format", "json", image]),
    );
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
    return facts;
  } finally {
    await runCaptured([options.podman, "rm", "--force", cid], options.env);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}
