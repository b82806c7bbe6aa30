/**
 * The library's functions: one per command, over the same code as the CLI.
 *
 * @module
 */

import { runDoctor } from "../backends/doctor.ts";
import type { DoctorReport } from "../backends/doctor.ts";
import { detectHost } from "../backends/host.ts";
import { type BackendName, isBackendName } from "../backends/names.ts";
import { ProbeCache } from "../backends/probe_cache.ts";
import { UsageError } from "../errors.ts";
import { escapeControlKeepLines } from "../escape.ts";
import { execEphemeral } from "../exec/ephemeral.ts";
import { execInEntry, type ExecRequest } from "../exec/exec.ts";
import { parseWorkdir } from "../exec/options.ts";
import type { PullRequest } from "../image/pull.ts";
import { cloneEntry } from "../store/clone.ts";
import { type EntryInfo, inspectEntry, listStore } from "../store/entries.ts";
import { type PruneReport, pruneStore } from "../store/prune.ts";
import { removeEntries } from "../store/remove.ts";
import { checkStoreRoot } from "../store/root_safety.ts";
import { stateDir } from "../store/store.ts";

import { type IdMapChoice, parseIdMap } from "../backends/id_map.ts";
import type {
  CapturedExecResult,
  CommitOptions,
  CommitResult,
  DoctorOptions,
  EnvLookup,
  ExecOptions,
  ExecResult,
  ExportFormat,
  PruneOptions,
  PullOptions,
  RemoveOptions,
  StoreOptions,
} from "./options.ts";
import {
  bindOf,
  FALLBACK_PATH,
  floorFrom,
  hostEnv,
  logOf,
  storeOf,
  userOf,
} from "./_env.ts";

export { push } from "./push.ts";

/**
 * Pulls an image into a new store entry, as `polythene pull IMAGE`.
 *
 * @example
 * ```ts
 * import { pull } from "../mod.ts";
 *
 * export const stage = (layout: string) =>
 *   pull(`oci:${layout}:latest`, { store: "/tmp/polythene-tests" });
 * ```
 *
 * @param image A registry reference, `oci:DIR[:TAG]`, `oci-archive:FILE`,
 * `docker-archive:FILE` or `containers-storage:REF`.
 * @returns The new entry's UUID.
 * @throws {UsageError} a malformed image or platform (2); {PolytheneError}
 * naming the image and the cause (1), 124 on timeout.
 */
export async function pull(
  image: string,
  options: PullOptions = {},
): Promise<string> {
  // Loaded on use: the tar, zstd and registry code never reaches `exec`.
  const { pullImage } = await import("../image/pull.ts");
  const request: PullRequest = {
    store: storeOf(options),
    image,
    platform: options.platform,
    puller: options.puller ?? "native",
    tlsVerify: options.tlsVerify ?? true,
    timeoutSeconds: options.timeoutSeconds,
    hostEnv: hostEnv,
    log: logOf(options),
    warn: options.warn ??
      ((message) =>
        console.error(
          `polythene: warning: ${escapeControlKeepLines(message)}`,
        )),
    onLayer: options.onLayer,
    progress: options.progress,
    limits: options.limits,
    reuse: options.reuse,
  };
  return await pullImage(request);
}

/**
 * Runs `argv` inside `STORE/UUID`, as `polythene exec UUID -- ARGV...`.
 * The command is an argv array, never wrapped in `sh -c`.
 *
 * @example
 * ```ts
 * import { exec } from "../mod.ts";
 *
 * export async function osRelease(uuid: string): Promise<string> {
 *   const result = await exec(uuid, ["cat", "/etc/os-release"], {
 *     capture: true,
 *     env: { LANG: "C" },
 *     binds: [{ source: ".", target: "/workspace", readOnly: false }],
 *     timeoutSeconds: 30,
 *   });
 *   return result.stdout;
 * }
 * ```
 *
 * @returns The command's exit code (and output, with `capture`).
 * @throws {UsageError} invalid UUID, option or program name (2);
 * {RootfsNotFoundError} (1); {CommandNotFoundError} (127);
 * {NoBackendError} (126).
 */
export async function exec(
  uuid: string,
  argv: readonly string[],
  options: ExecOptions & ({ capture: true } | { input: string | Uint8Array }),
): Promise<CapturedExecResult>;
/** Runs `argv` with stdio passed through; see the overload above. */
export async function exec(
  uuid: string,
  argv: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult>;
export async function exec(
  uuid: string,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  let output: [Uint8Array, Uint8Array] | undefined;
  const capture = options.capture || options.input !== undefined
    ? {
      input: typeof options.input === "string"
        ? new TextEncoder().encode(options.input)
        : options.input,
      collect: (stdout: Uint8Array, stderr: Uint8Array) => {
        output = [stdout, stderr];
      },
    }
    : undefined;
  const request: ExecRequest = {
    store: storeOf(options),
    uuid,
    argv,
    isolation: options.isolation,
    idMap: options.idMap ?? defaultIdMap(hostEnv),
    isolationFloor: options.isolationFloor ?? floorFrom(hostEnv),
    timeoutSeconds: options.timeoutSeconds,
    hostEnv,
    options: {
      env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      envFiles: options.envFiles,
      workdir: options.workdir === undefined
        ? undefined
        : parseWorkdir(options.workdir),
      binds: (options.binds ?? []).map(bindOf),
      network: options.network ?? "host",
      hosts: options.hosts ?? "host",
      user: userOf(options.user),
    },
    capture,
    log: logOf(options),
  };
  if (options.keep && !options.ephemeral) {
    throw new UsageError("Invalid options: keep needs ephemeral");
  }
  let kept: string | undefined;
  const code = options.ephemeral
    ? await execEphemeral(request, {
      keep: options.keep,
      onKept: (uuid) => kept = uuid,
    })
    : await execInEntry(request);
  if (capture === undefined) return { code, ...(kept ? { kept } : {}) };
  const decoder = new TextDecoder();
  return {
    code,
    ...(kept ? { kept } : {}),
    stdout: output ? decoder.decode(output[0]) : "",
    stderr: output ? decoder.decode(output[1]) : "",
  };
}

/**
 * The store's entries, oldest first, as `polythene list --json`. Never
 * locks; a missing store has none.
 *
 * @example
 * ```ts
 * import { list } from "../mod.ts";
 *
 * const entries = await list({ store: "/tmp/polythene-doc-missing" });
 * console.log(entries.length); // 0
 * ```
 *
 * @throws {UnsafeStoreError} when the store root is unsafe (1).
 */
export async function list(options: StoreOptions = {}): Promise<EntryInfo[]> {
  return await listStore(storeOf(options));
}

/**
 * Everything known about one entry, as `polythene inspect UUID --json`.
 *
 * @example
 * ```ts
 * import { inspect } from "../mod.ts";
 *
 * export const imageOf = async (uuid: string) => (await inspect(uuid)).image;
 * ```
 *
 * @throws {UsageError} invalid UUID (2); {RootfsNotFoundError} (1).
 */
export async function inspect(
  uuid: string,
  options: StoreOptions = {},
): Promise<EntryInfo> {
  return await inspectEntry(storeOf(options), uuid);
}

/**
 * Removes entries, as `polythene rm UUID...`: all UUIDs are validated
 * first; each removal waits for commands running in it unless `wait` is
 * false.
 *
 * @example
 * ```ts
 * import { rm } from "../mod.ts";
 *
 * export const drop = (uuid: string) => rm(uuid, { wait: false });
 * ```
 *
 * @throws {UsageError} (2); {RootfsNotFoundError} (1); {EntryBusyError}
 * (1) when busy and `wait` is false.
 */
export async function rm(
  uuids: string | readonly string[],
  options: RemoveOptions = {},
): Promise<void> {
  await removeEntries(
    storeOf(options),
    typeof uuids === "string" ? [uuids] : uuids,
    { wait: options.wait ?? true, log: logOf(options) },
  );
}

/**
 * Removes the entries the filter selects and sweeps leftovers, as
 * `polythene prune --json`. Entries in use are skipped and reported `busy`.
 *
 * @example
 * ```ts
 * import { prune } from "../mod.ts";
 *
 * export const weekOld = () =>
 *   prune({ olderThanMs: 7 * 24 * 3600_000, dryRun: true });
 * ```
 *
 * @throws {UnsafeStoreError} (1).
 */
export async function prune(options: PruneOptions = {}): Promise<PruneReport> {
  return await pruneStore(
    storeOf(options),
    {
      all: options.all ?? false,
      olderThanMs: options.olderThanMs,
      now: Date.now(),
    },
    options.dryRun ?? false,
  );
}

/**
 * Copies an entry into a new one, as `polythene clone UUID`.
 *
 * @example
 * ```ts
 * import { clone } from "../mod.ts";
 *
 * export const fork = (uuid: string) => clone(uuid);
 * ```
 *
 * @returns The new entry's UUID.
 * @throws {UsageError} (2); {RootfsNotFoundError} (1); {PolytheneError}
 * (1) when the copy fails.
 */
export async function clone(
  uuid: string,
  options: StoreOptions = {},
): Promise<string> {
  const made = await cloneEntry(storeOf(options), uuid, {
    hostPath: hostEnv("PATH") ?? FALLBACK_PATH,
  });
  return made.uuid;
}

/**
 * Which backends work on this host and which one `exec` would use, as
 * `polythene doctor --json`. Creates the store (the probe cache lives in it).
 *
 * @example
 * ```ts
 * import { doctor } from "../mod.ts";
 *
 * export const backendHere = async () => (await doctor()).selected;
 * ```
 *
 * @returns The report; `selected` is null when no backend works (the CLI
 * then exits 126).
 * @throws {UnsafeStoreError} (1).
 */
export async function doctor(
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const store = storeOf(options);
  await checkStoreRoot(store, { create: true });
  return await runDoctor({
    store,
    cache: new ProbeCache(`${stateDir(store)}/probes.json`),
    hostPath: hostEnv("PATH") ?? FALLBACK_PATH,
    host: detectHost(),
    preferred: options.isolation,
    refresh: options.refresh,
    idMap: options.idMap ?? defaultIdMap(hostEnv),
    log: logOf(options),
  });
}

/**
 * `--id-map` from `POLYTHENE_ID_MAP`, when set.
 *
 * @throws {UsageError} when it names no mode (2).
 */
export function defaultIdMap(env: EnvLookup): IdMapChoice | undefined {
  const named = env("POLYTHENE_ID_MAP");
  if (named === undefined || named === "") return undefined;
  return parseIdMap(named, "POLYTHENE_ID_MAP");
}

/**
 * The backend a {@linkcode PolytheneSession} tries first, as the Python
 * original chose it: `POLYTHENE_ISOLATION` when set, else `proot` on
 * GitHub Actions (`GITHUB_ACTIONS=true`, whose Ubuntu runners restrict
 * user namespaces), else none (the default order). Pure.
 *
 * @example
 * ```ts
 * import { defaultIsolation } from "../mod.ts";
 *
 * const env: Record<string, string> = { GITHUB_ACTIONS: "true" };
 * console.log(defaultIsolation((name) => env[name])); // "proot"
 * ```
 *
 * @throws {UsageError} when `POLYTHENE_ISOLATION` names no backend (2).
 */
export function defaultIsolation(env: EnvLookup): BackendName | undefined {
  const named = env("POLYTHENE_ISOLATION");
  if (named !== undefined && named !== "") {
    if (!isBackendName(named)) {
      throw new UsageError(
        `Invalid POLYTHENE_ISOLATION "${named}": expected bubblewrap, proot or chroot`,
      );
    }
    return named;
  }
  return env("GITHUB_ACTIONS") === "true" ? "proot" : undefined;
}

/**
 * Makes an image of entry `uuid` in the local image store, as `polythene
 * commit UUID [REF]`: the pulled base's layers plus one layer with what
 * changed, or one layer with the whole tree when the base is not known.
 *
 * @example
 * ```ts
 * import { commit, exec, pull } from "../mod.ts";
 *
 * export async function provision(image: string): Promise<string> {
 *   const uuid = await pull(image);
 *   await exec(uuid, ["apt-get", "install", "-y", "hello"]);
 *   const made = await commit(uuid, { ref: "ci/toolchain:1" });
 *   return made.digest;
 * }
 * ```
 *
 * @returns The manifest digest, the REF and the new layer.
 * @throws {UsageError} a bad REF or change (2); {RootfsNotFoundError} (1);
 * {EntryBusyError} while a command runs in the entry (1);
 * {UnreadableFilesError} naming files that cannot be read (1).
 */
export async function commit(
  uuid: string,
  options: CommitOptions = {},
): Promise<CommitResult> {
  // Loaded on use: the tar and compression code never reaches `exec`.
  const { commitEntry } = await import("../image/commit/commit.ts");
  const made = await commitEntry({
    store: storeOf(options),
    uuid,
    ref: options.ref,
    changes: options.changes,
    message: options.message,
    compression: options.compression,
    log: logOf(options),
    warn: options.warn ??
      ((message) =>
        console.error(
          `polythene: warning: ${escapeControlKeepLines(message)}`,
        )),
    progress: options.progress,
  });
  return {
    digest: made.digest,
    ...(made.ref ? { ref: made.ref } : {}),
    layer: made.layer,
    onBase: made.onBase,
  };
}

/**
 * Writes a committed image (an entry's UUID for its newest commit, a REF
 * or a digest) to `dest`, as `polythene export IMAGE DEST --format F`: an
 * OCI layout directory, an OCI or docker archive, or the flattened root
 * filesystem as a tar.
 *
 * @example
 * ```ts
 * import { exportImage } from "../mod.ts";
 *
 * export const save = (ref: string) =>
 *   exportImage(ref, "/tmp/image.tar", "docker-archive");
 * ```
 *
 * @returns The image's manifest digest.
 * @throws {LocalImageNotFoundError} (1); {ExportTargetError} when DEST
 * exists or cannot be written (1).
 */
export async function exportImage(
  image: string,
  dest: string,
  format: ExportFormat,
  options: StoreOptions = {},
): Promise<string> {
  const { exportImage: write } = await import("../image/export/export.ts");
  return (await write(storeOf(options), image, format, dest)).digest;
}
