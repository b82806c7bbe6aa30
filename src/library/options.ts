/**
 * The library's option and result types.
 *
 * @module
 */

import type { BackendName } from "../backends/names.ts";
import type { UserIds } from "../exec/options.ts";
import type { ImageLimits } from "../image/image_limits.ts";
import type { ProgressReporter } from "../progress.ts";

import type { IdMapChoice } from "../backends/id_map.ts";

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
  /**
   * `native` (default), `podman` as the Python original pulled, or `auto`:
   * native, then podman when no registry location can be reached.
   */
  puller?: "native" | "podman" | "auto";
  /** `false` allows plain http and unverified TLS for this pull. */
  tlsVerify?: boolean;
  /** Give up after this many seconds (exit code 124; nothing published). */
  timeoutSeconds?: number;
  /** Called as each layer starts, with its index and the layer count. */
  onLayer?: (index: number, count: number) => void;
  /**
   * Told each layer's start, bytes read, entries written and end (the CLI
   * shows them as bars or log lines); default nothing.
   */
  progress?: ProgressReporter;
  /** One-line warnings; default: `polythene: warning: ...` on stderr. */
  warn?: (message: string) => void;
  /**
   * Caps for the whole image (`--max-image-size`, `--max-image-entries`,
   * `--max-layers`); missing ones take the defaults.
   */
  limits?: Partial<ImageLimits>;
  /**
   * Return the newest entry pulled from the same reference at the same
   * digest, when there is one, instead of a new entry (`pull --reuse`).
   */
  reuse?: boolean;
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
  /**
   * Run on a fresh root filesystem (an overlay of the entry, or a clone),
   * removed afterwards.
   */
  ephemeral?: boolean;
  /**
   * With `ephemeral`: when the command exits non-zero, keep its result as
   * a new entry, whose UUID is the result's `kept`.
   */
  keep?: boolean;
  /**
   * Capture stdout and stderr instead of passing them through; stdin is
   * then closed, or carries `input`.
   */
  capture?: boolean;
  /** The command's stdin when capturing (implies `capture`). */
  input?: string | Uint8Array;
}

/**
 * Options of {@linkcode run}: those of {@linkcode exec} (the run is always
 * ephemeral) and of {@linkcode pull} (but `timeoutSeconds`, which is the
 * command's, and `reuse`), and when to pull.
 */
export interface RunOptions
  extends
    Omit<ExecOptions, "ephemeral">,
    Omit<PullOptions, "timeoutSeconds" | "reuse"> {
  /**
   * `missing` (default): pull unless an entry pulled from the same
   * reference is stored; `always`: ask the registry for the digest and pull
   * unless an entry at that digest is stored; `never`: stored entries only
   * (throws {@linkcode PolytheneError}, code 1, when there is none).
   */
  pull?: "missing" | "always" | "never";
}

/** What {@linkcode exec} returns. */
export interface ExecResult {
  /** The command's exit code; 124 on timeout, 128+N on signal N. */
  code: number;
  /** Its standard output (UTF-8), when captured. */
  stdout?: string;
  /** Its standard error (UTF-8), when captured. */
  stderr?: string;
  /** With `keep`: the UUID of the entry that holds the failed run's result. */
  kept?: string;
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

/** Options of {@linkcode push}. */
export interface PushOptions extends StoreOptions {
  /** `false` allows plain http and unverified TLS for this push. */
  tlsVerify?: boolean;
  /** Give up after this many seconds (exit code 124). */
  timeoutSeconds?: number;
  /**
   * Told each blob's start, bytes the registry holds so far and end, or
   * that it was skipped (the registry had it, or mounted it); default
   * nothing.
   */
  progress?: ProgressReporter;
}

/** What {@linkcode push} did. */
export interface PushedImage {
  /** The manifest digest the registry stored. */
  digest: string;
  /** `REGISTRY/REPOSITORY[:TAG]@DIGEST`. */
  pushed: string;
  /** How many blobs the registry had, mounted from the base, or received. */
  blobs: { exists: number; mounted: number; uploaded: number };
}

/** Options of {@linkcode commit}. */
export interface CommitOptions extends StoreOptions {
  /** A name for the image (normalised as pull normalises references). */
  ref?: string;
  /** Config edits: `ENV=NAME=VALUE`, `WORKDIR=/path`. */
  changes?: readonly string[];
  /** The comment of the commit's history item. */
  message?: string;
  /** Layer compression; default gzip. */
  compression?: "gzip" | "zstd";
  /** Receives warnings (a socket left out); default: stderr. */
  warn?: (message: string) => void;
  /**
   * Told each layer: the base's as skipped (reused), the new one's content
   * read and members written; default nothing.
   */
  progress?: ProgressReporter;
}

/** What {@linkcode commit} made. */
export interface CommitResult {
  /** The image manifest's digest (`sha256:...`). */
  digest: string;
  /** The normalised REF, when one was given. */
  ref?: string;
  /** The new layer's blob. */
  layer: { mediaType: string; digest: string; size: number };
  /** Whether the image sits on the pulled base's layers. */
  onBase: boolean;
}

/** What {@linkcode exportImage} writes. */
export type ExportFormat = "oci" | "oci-archive" | "docker-archive" | "tar";
