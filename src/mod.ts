/**
 * Polythene as a library: stage container root filesystems and run commands
 * in them from TypeScript, through the same functions as the `polythene`
 * command line (one code path serves both).
 *
 * Every function takes an optional store (default `POLYTHENE_STORE`, else
 * `/var/tmp/polythene`). Failures are thrown as {@linkcode PolytheneError}
 * subclasses whose `exitCode` is the one the CLI exits with; a command that
 * ran returns its own exit code instead (124 on timeout, 128+N on signal N).
 *
 * Permissions: those of the CLI (`permissionFlags()` in
 * `src/permissions.ts`): `--allow-run` for the backends (`bwrap`, `proot`,
 * `sh`, `unshare`) and `cp`, `--allow-read`, `--allow-write`, `--allow-net`
 * (pull), `--allow-env`, `--allow-sys=gid,osRelease,statfs,uid`.
 *
 * @example A test suite's session
 * ```ts
 * import { PolytheneSession } from "./mod.ts";
 *
 * export async function unameIn(image: string): Promise<string> {
 *   const session = new PolytheneSession({ store: "/tmp/polythene-tests" });
 *   const uuid = await session.pull(image);
 *   const { code, stdout } = await session.exec(uuid, ["uname", "-a"], {
 *     capture: true,
 *   });
 *   if (code !== 0) throw new Error(`uname exited ${code}`);
 *   return stdout;
 * }
 * ```
 *
 * @module
 */

import { runDoctor } from "./backends/doctor.ts";
import type { DoctorReport } from "./backends/doctor.ts";
import { detectHost } from "./backends/host.ts";
import { type BackendName, isBackendName } from "./backends/names.ts";
import { ProbeCache } from "./backends/probe_cache.ts";
import { UsageError } from "./errors.ts";
import { escapeControlKeepLines } from "./escape.ts";
import { execEphemeral } from "./exec/ephemeral.ts";
import { execInEntry, type ExecRequest } from "./exec/exec.ts";
import {
  type BindRequest,
  parseBind,
  parseUser,
  parseWorkdir,
  type UserIds,
} from "./exec/options.ts";
import type { PullRequest } from "./image/pull.ts";
import type { ImageLimits } from "./image/image_limits.ts";
import { createLog, isTrue } from "./log.ts";
import { cloneEntry } from "./store/clone.ts";
import { type EntryInfo, inspectEntry, listStore } from "./store/entries.ts";
import { type PruneReport, pruneStore } from "./store/prune.ts";
import { removeEntries } from "./store/remove.ts";
import { checkStoreRoot } from "./store/root_safety.ts";
import { DEFAULT_STORE, stateDir } from "./store/store.ts";

export * from "./errors.ts";
export type {
  BackendReport,
  DoctorHost,
  DoctorReport,
  Problem,
  ProblemKind,
  SysctlName,
} from "./backends/doctor.ts";
export { SYSCTLS } from "./backends/doctor.ts";
export type { HostFacts } from "./backends/host.ts";
export type { HostInfo, Isolation } from "./backends/backend.ts";
import { type IdMapChoice, parseIdMap } from "./backends/id_map.ts";
export type { IdMapChoice } from "./backends/id_map.ts";
export { ID_MAP_CHOICES } from "./backends/id_map.ts";
export { BACKEND_NAMES, type BackendName } from "./backends/names.ts";
export type { UserIds } from "./exec/options.ts";
export type { ImageConfig } from "./image/types.ts";
export type { EntryInfo } from "./store/entries.ts";
export type { PruneReason, PruneReport } from "./store/prune.ts";

const FALLBACK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/** Reads one environment variable; `Deno.env.get` by default. */
export type EnvLookup = (name: string) => string | undefined;

/** Options every function takes. */
export interface StoreOptions {
  /** The store root; default `POLYTHENE_STORE`, else `/var/tmp/polythene`. */
  store?: string;
  /**
   * Verbose log sink (the CLI's `--verbose` lines); default: timestamped
   * lines on stderr when `POLYTHENE_VERBOSE` is 1, true, yes or on, else nothing.
   */
  log?: (message: string) => void;
}

/** Options of {@linkcode pull}. */
export interface PullOptions extends StoreOptions {
  /** `os/arch[/variant]`; default this host. */
  platform?: string;
  /** `native` (default), or `podman` as the Python original pulled. */
  puller?: "native" | "podman";
  /** `false` allows plain http and unverified TLS for this pull. */
  tlsVerify?: boolean;
  /** Give up after this many seconds (exit code 124; nothing published). */
  timeoutSeconds?: number;
  /** Called as each layer starts, with its index and the layer count. */
  onLayer?: (index: number, count: number) => void;
  /** One-line warnings; default: `polythene: warning: ...` on stderr. */
  warn?: (message: string) => void;
  /**
   * Caps for the whole image (`--max-image-size`, `--max-image-entries`,
   * `--max-layers`); missing ones take the defaults.
   */
  limits?: Partial<ImageLimits>;
}

/** A host path made visible inside the sandbox. */
export interface Bind {
  /** Host path (it must exist); a relative one is taken from `Deno.cwd()`. */
  source: string;
  /** Absolute path inside the rootfs, created when missing. */
  target: string;
  /** Read-only bind (proot cannot, so it is skipped). Default false. */
  readOnly?: boolean;
}

/** Options of {@linkcode exec}, the CLI's `exec` options. */
export interface ExecOptions extends StoreOptions {
  /** Variables set for the command (`--env KEY=VALUE`), after the image's. */
  env?: Record<string, string>;
  /** `--env-file` paths, in order. */
  envFiles?: readonly string[];
  /** Binds: `{ source, target, readOnly }` or the CLI's `SRC:DST[:ro]`. */
  binds?: readonly (Bind | string)[];
  /** Absolute working directory inside; default the image's, else `/`. */
  workdir?: string;
  /** `"root"` (default), a uid, `"UID[:GID]"` or `{ uid, gid }`. */
  user?: "root" | number | string | UserIds;
  /** `none`: no network but loopback (proot is skipped). Default `host`. */
  network?: "host" | "none";
  /** Whose `/etc/resolv.conf` and `/etc/hosts` the command sees. */
  hosts?: "host" | "image";
  /** Backend to probe first; the others follow in the default order. */
  isolation?: BackendName;
  /**
   * How bubblewrap maps ids as a non-root user (`--id-map`): `auto`
   * (default: `POLYTHENE_ID_MAP`, else full maps when possible, else fake),
   * `full`, `fake` or `single`.
   */
  idMap?: IdMapChoice;
  /**
   * Never use a backend weaker than this one (strongest first: bubblewrap,
   * proot, chroot): throw {@linkcode NoBackendError} (126) instead. Default
   * `POLYTHENE_ISOLATION_FLOOR` when set.
   */
  isolationFloor?: BackendName;
  /** Kill the whole command tree after this many seconds (code 124). */
  timeoutSeconds?: number;
  /** Run in a fresh clone of the entry, removed afterwards. */
  ephemeral?: boolean;
  /**
   * Capture stdout and stderr instead of passing them through; stdin is
   * then closed, or carries `input`.
   */
  capture?: boolean;
  /** The command's stdin when capturing (implies `capture`). */
  input?: string | Uint8Array;
}

/** What {@linkcode exec} returns. */
export interface ExecResult {
  /** The command's exit code; 124 on timeout, 128+N on signal N. */
  code: number;
  /** Its standard output (UTF-8), when captured. */
  stdout?: string;
  /** Its standard error (UTF-8), when captured. */
  stderr?: string;
}

/** What {@linkcode exec} returns with `capture`: the output is there. */
export interface CapturedExecResult extends ExecResult {
  /** Its standard output, decoded as UTF-8. */
  stdout: string;
  /** Its standard error, decoded as UTF-8. */
  stderr: string;
}

/** Options of {@linkcode rm}. */
export interface RemoveOptions extends StoreOptions {
  /** Wait for commands running in the entry (default); false fails at once. */
  wait?: boolean;
}

/** Options of {@linkcode prune}. */
export interface PruneOptions extends StoreOptions {
  /** Remove every entry. */
  all?: boolean;
  /** Remove entries last modified longer ago than this (milliseconds). */
  olderThanMs?: number;
  /** Report what would be removed; change nothing. */
  dryRun?: boolean;
}

/** Options of {@linkcode doctor}. */
export interface DoctorOptions extends StoreOptions {
  /** The backend `exec` would try first. */
  isolation?: BackendName;
  /** Probe again, replacing cached results. */
  refresh?: boolean;
  /** `--id-map` exec would get; default `POLYTHENE_ID_MAP`, else `auto`. */
  idMap?: IdMapChoice;
}

/**
 * Pulls an image into a new store entry, as `polythene pull IMAGE`.
 *
 * @example
 * ```ts
 * import { pull } from "./mod.ts";
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
  const { pullImage } = await import("./image/pull.ts");
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
    limits: options.limits,
  };
  return await pullImage(request);
}

/**
 * Runs `argv` inside `STORE/UUID`, as `polythene exec UUID -- ARGV...`.
 * The command is an argv array, never wrapped in `sh -c`.
 *
 * @example
 * ```ts
 * import { exec } from "./mod.ts";
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
  const code = options.ephemeral
    ? await execEphemeral(request)
    : await execInEntry(request);
  if (capture === undefined) return { code };
  const decoder = new TextDecoder();
  return {
    code,
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
 * import { list } from "./mod.ts";
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
 * import { inspect } from "./mod.ts";
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
 * import { rm } from "./mod.ts";
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
 * import { prune } from "./mod.ts";
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
 * import { clone } from "./mod.ts";
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
 * import { doctor } from "./mod.ts";
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
 * import { defaultIsolation } from "./mod.ts";
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

/** Options of {@linkcode PolytheneSession}. */
export interface SessionOptions extends StoreOptions {
  /** Backend to try first; default {@linkcode defaultIsolation}. */
  isolation?: BackendName;
  /** Where the defaults are read from; default `Deno.env.get`. */
  env?: EnvLookup;
}

/**
 * A store and its defaults, for test suites: the Python original's
 * `PolytheneSession`. Each method is the function of the same name with the
 * session's store, isolation and log filled in (per-call options win).
 *
 * @example
 * ```ts
 * import { PolytheneSession } from "./mod.ts";
 *
 * const session = new PolytheneSession({ store: "/tmp/polythene-doc" });
 * export async function uname(uuid: string): Promise<number> {
 *   const { code } = await session.exec(uuid, ["uname", "-a"]);
 *   return code;
 * }
 * ```
 */
export class PolytheneSession {
  /** The store root. */
  readonly store: string;
  /** The backend tried first, or undefined for the default order. */
  readonly isolation?: BackendName;
  readonly #log?: (message: string) => void;

  /**
   * Opens a session; nothing is created until it is used.
   *
   * @throws {UsageError} when `POLYTHENE_ISOLATION` names no backend (2).
   */
  constructor(options: SessionOptions = {}) {
    const env = options.env ?? hostEnv;
    this.store = options.store ?? storeFrom(env);
    this.isolation = options.isolation ?? defaultIsolation(env);
    this.#log = options.log;
  }

  /** {@linkcode pull} into this store; returns the new UUID. */
  pull(image: string, options: PullOptions = {}): Promise<string> {
    return pull(image, { ...this.#defaults(), ...options });
  }

  /** {@linkcode exec} in this store, with the session's isolation. */
  exec(
    uuid: string,
    argv: readonly string[],
    options: ExecOptions & ({ capture: true } | { input: string | Uint8Array }),
  ): Promise<CapturedExecResult>;
  /** {@linkcode exec} with stdio passed through. */
  exec(
    uuid: string,
    argv: readonly string[],
    options?: ExecOptions,
  ): Promise<ExecResult>;
  exec(
    uuid: string,
    argv: readonly string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    return exec(uuid, argv, {
      ...this.#defaults(),
      isolation: this.isolation,
      ...options,
    });
  }

  /** {@linkcode list} this store's entries. */
  list(): Promise<EntryInfo[]> {
    return list(this.#defaults());
  }

  /** {@linkcode inspect} one entry of this store. */
  inspect(uuid: string): Promise<EntryInfo> {
    return inspect(uuid, this.#defaults());
  }

  /** {@linkcode rm} entries of this store. */
  rm(
    uuids: string | readonly string[],
    options: RemoveOptions = {},
  ): Promise<void> {
    return rm(uuids, { ...this.#defaults(), ...options });
  }

  /** {@linkcode prune} this store. */
  prune(options: PruneOptions = {}): Promise<PruneReport> {
    return prune({ ...this.#defaults(), ...options });
  }

  /** {@linkcode clone} an entry of this store; returns the new UUID. */
  clone(uuid: string): Promise<string> {
    return clone(uuid, this.#defaults());
  }

  /** {@linkcode doctor} for this store, with the session's isolation. */
  doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
    return doctor({
      ...this.#defaults(),
      isolation: this.isolation,
      ...options,
    });
  }

  #defaults(): StoreOptions {
    return { store: this.store, log: this.#log };
  }
}

function hostEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

function floorFrom(env: EnvLookup): BackendName | undefined {
  const named = env("POLYTHENE_ISOLATION_FLOOR");
  if (named === undefined || named === "") return undefined;
  if (!isBackendName(named)) {
    throw new UsageError(
      `Invalid POLYTHENE_ISOLATION_FLOOR "${named}": expected bubblewrap, proot or chroot`,
    );
  }
  return named;
}

function storeFrom(env: EnvLookup): string {
  const value = env("POLYTHENE_STORE");
  return value === undefined || value === "" ? DEFAULT_STORE : value;
}

function storeOf(options: StoreOptions): string {
  return options.store ?? storeFrom(hostEnv);
}

function logOf(options: StoreOptions): (message: string) => void {
  if (options.log !== undefined) return options.log;
  return createLog(isTrue(hostEnv("POLYTHENE_VERBOSE")));
}

function bindOf(bind: Bind | string): BindRequest {
  if (typeof bind === "string") return parseBind(bind, Deno.cwd());
  const readOnly = bind.readOnly === true;
  return parseBind(
    `${bind.source}:${bind.target}${readOnly ? ":ro" : ""}`,
    Deno.cwd(),
  );
}

function userOf(
  user: ExecOptions["user"],
): UserIds | undefined {
  if (user === undefined) return undefined;
  if (typeof user === "number") return parseUser(String(user));
  if (typeof user === "string") return parseUser(user);
  return parseUser(`${user.uid}:${user.gid}`);
}
