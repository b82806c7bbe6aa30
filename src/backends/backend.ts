/**
 * The contract every isolation backend implements. A backend is a name, the
 * host programs it needs, whether it needs real root, a probe, and a pure
 * argv builder. The ordered registry lives in `mod.ts`.
 *
 * @module
 */

import type { Emulation } from "./emulation.ts";
import type { BackendName } from "./names.ts";

/** Facts about the host that decide how a backend is driven. */
export interface HostInfo {
  /** The real uid of this process. */
  uid: number;
  /** True when uid 0 in the initial user namespace (not merely mapped root). */
  realRoot: boolean;
}

/** Absolute host paths of the programs a backend declared, by name. */
export type Programs = Readonly<Record<string, string>>;

/** What to run and how; the same for every backend. */
export interface RunSpec {
  /** Absolute host path of the root filesystem. */
  rootfs: string;
  /** The command and its arguments, passed literally. */
  argv: readonly string[];
  /** The command's whole environment. */
  env: Readonly<Record<string, string>>;
  /** Working directory inside the rootfs. */
  cwd: string;
  /**
   * Whether polythene's stdin and stdout are terminals: the command then
   * runs on a pseudo-terminal of its own, relayed to them (`pty.ts`), and
   * otherwise in a session of its own, never holding a controlling
   * terminal.
   */
  terminal: boolean;
  /** Host paths made visible inside, in order (default: none). */
  mounts?: readonly Mount[];
  /** `none` gives the command no network but its own loopback. */
  network?: "host" | "none";
  /** uid and gid inside (default 0:0). */
  user?: { uid: number; gid: number };
  /**
   * Path inside the rootfs of a `sh`, when it has one. proot and chroot pass
   * the command's environment through their own, never their argv; the
   * variables that would change how they themselves run (`LD_PRELOAD`...)
   * travel renamed, and this `sh`, inside the sandbox, renames them back
   * just before it execs the command (see `launcher_env.ts`).
   */
  guestShell?: string;
  /**
   * How bubblewrap maps ids when polythene is not real root (`id_map.ts`);
   * default: only the run's uid, nothing faked.
   */
  idMap?: IdMapPlan;
  /**
   * proot's `faccessat2` fix (`proot_compat.ts`): this host `perl` loads a
   * constant seccomp filter in front of proot. Absent: proot runs bare.
   */
  compatFilter?: { perl: string };
  /**
   * Set when the entry's recorded platform is not the host's: what running
   * it through qemu-user needs and what the host has (`emulation.ts`).
   * proot runs the guest with `-q`; a backend that cannot emulate it is
   * refused (`emulationRefusal`). Absent: the image runs natively.
   */
  emulation?: Emulation;
  /**
   * `exec --ephemeral` on an overlay (`overlay.ts`): `rootfs` is then the
   * merged directory, mounted just before the backend starts, in a mount
   * namespace of its own that ends with the run.
   */
  overlay?: OverlayPlan;
}

/** An overlay for one run: see `overlay.ts`. */
export interface OverlayPlan {
  /** The entry: the read-only lower layer. */
  lower: string;
  /** The run's upper and work directories (in its private directory). */
  upper: string;
  /** overlayfs's work directory, on the same file system as `upper`. */
  work: string;
  /** Where the merged tree is mounted; the spec's `rootfs`. */
  merged: string;
  /** Host programs: `unshare`, `mount`, `sh`, absolute paths. */
  unshare: string;
  mount: string;
  sh: string;
  /**
   * Mount points the run needs that the entry lacks (resolved, symlink-free
   * paths inside the rootfs, parents first), made in the merged tree before
   * the backend starts, so that the entry itself is never written.
   */
  create: readonly { kind: "dir" | "file"; path: string }[];
}

/** The id mapping bubblewrap carries out: see `id_map.ts`. */
export type IdMapPlan =
  | {
    mode: "full";
    /** `unshare`, and the PATH where it finds newuidmap/newgidmap. */
    unshare: string;
    helperPath: string;
    /** `--id-map full` was asked for: no other mapping will do. */
    forced: boolean;
  }
  | {
    mode: "fake";
    /** The fake-ownership filter: a 0600 file in the store's state area. */
    filterFile: string;
  }
  | { mode: "single" };

/** One bind mount. */
export interface Mount {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the rootfs, already resolved: no symlinks. */
  target: string;
  /** Mount read-only. */
  readOnly: boolean;
  /**
   * The source is polythene's own private copy (e.g. the host's
   * `resolv.conf`), so a backend that cannot make it read-only may bind it
   * writable: writes reach only the copy.
   */
  privateCopy?: boolean;
  /**
   * The source is one of the host's own files (`/etc/resolv.conf`,
   * `/etc/hosts`), bound read-only as it is. A backend that cannot make a
   * bind read-only (no mount namespace of its own: proot) binds a private
   * copy instead, so a write reaches only the copy (`host_copies.ts`).
   */
  hostFile?: boolean;
}

/** The argv to spawn and the environment to spawn it with. */
export interface Invocation {
  /** Host argv; the first element is an absolute program path. */
  argv: string[];
  /** Environment for the host-side process. */
  env: Record<string, string>;
  /**
   * When set, the backend writes bwrap-style JSON status lines to fd 3, and a
   * `"exit-code"` line proves that the command started. polythene opens fd 3
   * on a status file with a tiny `sh` wrapper.
   */
  statusFd: boolean;
  /**
   * Arguments that must not appear in the argv (the command's environment,
   * which may hold secrets): polythene writes them NUL-separated to a 0600
   * file that the status wrapper opens on fd 4, and `argv` reads them with
   * bwrap's `--args 4`. Needs `statusFd`.
   */
  fdArgs?: string[];
  /**
   * A seccomp filter file (classic BPF) that the status wrapper opens on
   * fd 5, for bwrap's `--seccomp 5`. Needs `statusFd`.
   */
  fdSeccomp?: string;
  /** The argv already mounts `RunSpec.overlay` (`overlay.ts`). */
  overlaid?: boolean;
}

/** One isolation backend. */
export interface Backend {
  /** The name users type after `--isolation`. */
  readonly name: BackendName;
  /** Host programs it needs, looked up on PATH; the first is the one run. */
  readonly programs: readonly string[];
  /**
   * Further host programs it needs only as real root (to drop capabilities);
   * see {@linkcode programsNeeded}.
   */
  readonly rootPrograms?: readonly string[];
  /** Programs polythene itself starts (for `--allow-run`). */
  readonly spawns: readonly string[];
  /** True when only real root can use it. */
  readonly needsRoot: boolean;
  /**
   * True when the backend's whole tree dies with its parent by itself
   * (bwrap's `--die-with-parent`): it needs no watcher unless `script`
   * stands between it and polythene.
   */
  readonly diesWithParent?: boolean;
  /** Debian package that provides the main program. */
  readonly package: string;
  /**
   * The argv of a probe that exits 0 when the backend can create its sandbox
   * on this host. It never depends on any image: it sandboxes the host's own
   * `/` read-only and runs the host's `true`.
   */
  probe(host: HostInfo, programs: Programs): Invocation;
  /**
   * Why this backend cannot honour `spec` (one line), or undefined when it
   * can. A refused backend is skipped, as if it were not installed. Pure.
   */
  refuses?(spec: RunSpec, host: HostInfo): string | undefined;
  /** What the sandbox isolates, for `doctor`. */
  readonly isolates: Isolation;
  /** Builds the invocation for `spec`. Pure. */
  invocation(spec: RunSpec, host: HostInfo, programs: Programs): Invocation;
  /**
   * For backends whose tree does not end with the process polythene started:
   * a command that sends `signal` to every process of the tree of `pid`, or
   * with `underChild`, of `pid`'s child (the backend, when `pid` is the
   * `script` that relays a pty; see `pty.ts`), which SIGKILL then kills too.
   */
  signalTree?(
    pid: number,
    signal: Deno.Signal,
    programs: Programs,
    underChild?: boolean,
  ): Invocation;
}

/** The Debian package of each host program a backend may need. */
export const PROGRAM_PACKAGES: Readonly<Record<string, string>> = {
  bwrap: "bubblewrap",
  proot: "proot",
  setpriv: "util-linux",
  unshare: "util-linux",
  script: "bsdutils",
  mount: "mount",
  sh: "dash",
};

/** The Debian package that provides `program`, else the backend's own. Pure. */
export function packageOf(program: string, backend: Backend): string {
  return PROGRAM_PACKAGES[program] ?? backend.package;
}

/** Every host program `backend` needs on `host`, main program first. Pure. */
export function programsNeeded(backend: Backend, host: HostInfo): string[] {
  return [
    ...backend.programs,
    ...(host.realRoot ? backend.rootPrograms ?? [] : []),
  ];
}

/** What a backend isolates from the host. */
export interface Isolation {
  /** Own pid namespace. */
  pid: boolean;
  /** Can give the command no network (`--network none`). */
  network: boolean;
  /** Own mount namespace. */
  mounts: boolean;
  /** How uid 0 inside is made: `real`, `mapped` (user namespace), `faked`. */
  root: string;
}

/** The standard PATH inside a rootfs. */
export const DEFAULT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The device nodes every backend provides under `/dev`. */
export const DEVICES = [
  "null",
  "zero",
  "full",
  "random",
  "urandom",
  "tty",
] as const;
