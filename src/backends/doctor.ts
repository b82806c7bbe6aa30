/**
 * `doctor`: what each backend needs, whether it works here, why not, and
 * what to do about it, from the same checks and probe cache `exec` uses
 * (`assessBackend` in `run.ts`).
 *
 * The decisions are pure: {@linkcode classifyProbeFailure} reads a failed
 * probe's stderr and the host's sysctls, {@linkcode diagnose} turns any
 * failed check into a {@linkcode Problem}. {@linkcode runDoctor} is the shell.
 *
 * Permissions: those of `exec` (`--allow-read`, `--allow-write` for the
 * probe cache, `--allow-run=bwrap,proot,script,setpriv,sh,unshare`, `--allow-sys`).
 *
 * @example
 * ```ts
 * import { classifyProbeFailure } from "./doctor.ts";
 * const host = { uid: 1000, realRoot: false, kernel: "6.1.0", sysctls: {} };
 * classifyProbeFailure("bubblewrap", "bwrap: setting up uid map: Permission denied", host).kind;
 * // "userns-denied"
 * ```
 *
 * @module
 */

import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";
import {
  type Backend,
  type Isolation,
  packageOf,
  programsNeeded,
} from "./backend.ts";
import type { HostFacts } from "./host.ts";
import { backendsInOrder } from "./mod.ts";
import type { BackendName } from "./names.ts";
import type { ProbeCache } from "./probe_cache.ts";
import { assessBackend, type Readiness, versionOf } from "./readiness.ts";
import type { IdMapChoice } from "./id_map.ts";
import { type IdMapReport, idMapReport } from "./id_map_report.ts";
import { detectFullMapHost, fullMapsMissing } from "../process/subids.ts";
import { type ArchReport, emulationReports } from "./doctor_emulation.ts";
import { ociArch } from "./emulation.ts";
import { privateBinfmtVerdict } from "./binfmt_host.ts";

/** The sysctls that decide whether the backends can work, when readable. */
export const SYSCTLS = [
  "kernel.unprivileged_userns_clone",
  "user.max_user_namespaces",
  "kernel.apparmor_restrict_unprivileged_userns",
  "kernel.yama.ptrace_scope",
] as const;

/** One of {@linkcode SYSCTLS}. */
export type SysctlName = typeof SYSCTLS[number];

/** Host facts, plus the sysctls that could be read (absent: not on this kernel). */
export interface DoctorHost extends HostFacts {
  /** Integer values by sysctl name. */
  sysctls: Partial<Record<SysctlName, number>>;
}

/** Why a backend cannot run here. */
export type ProblemKind =
  | "program-missing"
  | "not-root"
  | "userns-disabled"
  | "userns-denied"
  | "userns-limit"
  | "ptrace-blocked"
  | "unknown";

/** A failed check, explained. */
export interface Problem {
  /** The class of failure. */
  kind: ProblemKind;
  /** What `exec` reports for it, one line. */
  reason: string;
  /** What is wrong, in words. */
  cause: string;
  /** What to do about it. */
  fix: string;
}

/** One backend's line in the report. */
export interface BackendReport {
  /** The backend. */
  name: BackendName;
  /** Each program it needs: its absolute path, or null when not on PATH. */
  programs: Record<string, string | null>;
  /** The main program's version (`bwrap 0.8.0`), when known. */
  version: string | null;
  /** The probe's result, or null when it was not probed (a check failed first). */
  probe: { ok: boolean; reason: string | null; probedAt: string } | null;
  /** True when `exec` could use it. */
  usable: boolean;
  /** Why not, or null when usable. */
  problem: Problem | null;
  /** What its sandbox isolates. */
  isolates: Isolation;
}

/** The whole report (`doctor --json`, schema in `docs/schemas/doctor.json`). */
export interface DoctorReport {
  /** Schema version. */
  schema: 1;
  /** The store whose probe cache was used. */
  store: string;
  /** The host facts the results depend on. */
  host: DoctorHost;
  /** Every backend, in the order `exec` tries them. */
  backends: BackendReport[];
  /** The backend `exec` would use now, or null when none works. */
  selected: BackendName | null;
  /** How each backend would map ids for a root run (`id_map_report.ts`). */
  idMaps: IdMapReport;
  /**
   * Each architecture with a qemu-user binary on PATH: which backends can
   * run its images, and why not (`doctor_emulation.ts`).
   */
  emulation: ArchReport[];
}

const USERNS_ESCAPE = "or use --isolation proot";

/**
 * Classifies a failed probe from its stderr and the host's sysctls. Pure.
 *
 * @param backend The backend whose probe failed.
 * @param stderr The probe's stderr (any number of lines).
 * @param host The host facts and sysctls.
 */
export function classifyProbeFailure(
  backend: BackendName,
  stderr: string,
  host: DoctorHost,
): Omit<Problem, "reason"> {
  const { sysctls } = host;
  const eperm = /Operation not permitted|EPERM|No permissions? to creat/i
    .test(stderr);
  if (backend === "proot") {
    if (/ptrace/i.test(stderr) && /not permitted|denied/i.test(stderr)) {
      return {
        kind: "ptrace-blocked",
        cause: "proot cannot trace its child: ptrace is blocked" +
          (sysctls["kernel.yama.ptrace_scope"] === 3
            ? " (kernel.yama.ptrace_scope=3)"
            : " (a seccomp filter, Yama, or a container without ptrace)"),
        fix: sysctls["kernel.yama.ptrace_scope"] === 3
          ? "reboot with kernel.yama.ptrace_scope at 2 or less (3 cannot be lowered at run time), or use bubblewrap"
          : "allow ptrace (e.g. run the container with --cap-add SYS_PTRACE or an unconfined seccomp profile), or use bubblewrap",
      };
    }
    return unknown(stderr, "check that proot runs: proot -r / -0 true");
  }
  if (backend === "chroot") {
    return unknown(
      stderr,
      eperm
        ? "chroot needs CAP_SYS_ADMIN for its mount and pid namespaces " +
          "(a container may drop it); use bubblewrap or proot"
        : "run the probe by hand with --verbose",
    );
  }
  if (
    /ENOSPC|No space left on device|max_\S*namespaces exceeded/.test(stderr) ||
    (sysctls["user.max_user_namespaces"] === 0 && !host.realRoot)
  ) {
    return {
      kind: "userns-limit",
      cause: "no more user namespaces may be created here: " +
        "user.max_user_namespaces is " +
        (sysctls["user.max_user_namespaces"] ?? "exhausted") + " (ENOSPC)",
      fix: "sysctl -w user.max_user_namespaces=15000 (in a nested " +
        `namespace, its parent's limit counts too), ${USERNS_ESCAPE}`,
    };
  }
  if (
    /setting up uid map: Permission denied/i.test(stderr) ||
    (eperm && sysctls["kernel.apparmor_restrict_unprivileged_userns"] === 1)
  ) {
    return {
      kind: "userns-denied",
      cause: "AppArmor denies unprivileged user namespaces " +
        "(kernel.apparmor_restrict_unprivileged_userns=1)",
      fix: "give bwrap an AppArmor profile that allows `userns,` " +
        "(/etc/apparmor.d/bwrap), or sysctl -w " +
        `kernel.apparmor_restrict_unprivileged_userns=0, ${USERNS_ESCAPE}`,
    };
  }
  if (eperm || sysctls["kernel.unprivileged_userns_clone"] === 0) {
    const clone = sysctls["kernel.unprivileged_userns_clone"];
    return {
      kind: "userns-disabled",
      cause: "creating a user namespace is not permitted: " +
        (clone === 0
          ? "kernel.unprivileged_userns_clone=0"
          : "unprivileged user namespaces are disabled (a sysctl, or a seccomp filter)"),
      fix: (clone === undefined
        ? "enable unprivileged user namespaces"
        : "sysctl -w kernel.unprivileged_userns_clone=1") +
        ` (persist it in /etc/sysctl.d/), ${USERNS_ESCAPE}`,
    };
  }
  return unknown(
    stderr,
    backend === "bubblewrap"
      ? `run the probe by hand with --verbose, ${USERNS_ESCAPE}`
      : "run the probe by hand with --verbose",
  );
}

function unknown(stderr: string, fix: string): Omit<Problem, "reason"> {
  const lines = stderr.trim().split("\n").filter((l) => l.trim() !== "");
  return {
    kind: "unknown",
    cause: lines.at(-1)?.trim() ?? "the probe failed without a message",
    fix,
  };
}

/** Explains a failed {@linkcode Readiness}; null when it is ok. Pure. */
export function diagnose(
  backend: Backend,
  readiness: Readiness,
  host: DoctorHost,
): Problem | null {
  if (readiness.ok) return null;
  const { reason } = readiness;
  if (readiness.stage === "root") {
    return {
      kind: "not-root",
      reason,
      cause: host.uid === 0
        ? "uid 0 here is mapped root in a user namespace, not real root"
        : `polythene runs as uid ${host.uid}, not root`,
      fix: "run as root, or use bubblewrap or proot",
    };
  }
  if (readiness.stage === "programs") {
    return {
      kind: "program-missing",
      reason,
      cause: `${reason.replace(/ on PATH$/, "")} on PATH`,
      fix:
        `install the "${
          packageOf(readiness.missing ?? "", backend)
        }" package (apt-get install ${
          packageOf(readiness.missing ?? "", backend)
        })` +
        (backend.name === "bubblewrap" ? ", or use --isolation proot" : ""),
    };
  }
  const stderr = readiness.probe?.stderr ?? readiness.probe?.reason ?? "";
  return { reason, ...classifyProbeFailure(backend.name, stderr, host) };
}

/** How {@linkcode runDoctor} is run. */
export interface DoctorOptions {
  /** The store root, for the report. */
  store: string;
  /** The probe cache `exec` uses. */
  cache: ProbeCache;
  /** The host's PATH. */
  hostPath: string;
  /** Host facts. */
  host: HostFacts;
  /** Backend `exec` would try first (`--isolation`). */
  preferred?: BackendName;
  /** Probe again, ignoring (and replacing) cached results. */
  refresh?: boolean;
  /** `--id-map`, as exec would get it; default `auto`. */
  idMap?: IdMapChoice;
  /** Verbose log sink. */
  log: (message: string) => void;
}

/**
 * Checks every backend as `exec` would, probing where nothing is cached
 * (or everything, with `refresh`), and reports.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const host: DoctorHost = {
    ...options.host,
    sysctls: await readSysctls(options.hostPath),
  };
  const backends: BackendReport[] = [];
  for (const backend of backendsInOrder(options.preferred)) {
    const readiness = await assessBackend(backend, options, options.refresh);
    const programs = Object.fromEntries(
      programsNeeded(backend, options.host).map((name) => [
        name,
        which(name, options.hostPath)?.path ?? null,
      ]),
    );
    const probe = readiness.probe;
    backends.push({
      name: backend.name,
      programs,
      version: probe?.version ?? await versionFor(backend, programs),
      probe: probe === undefined ? null : {
        ok: probe.ok,
        reason: probe.reason ?? null,
        probedAt: probe.probedAt,
      },
      usable: readiness.ok,
      problem: diagnose(backend, readiness, host),
      isolates: backend.isolates,
    });
  }
  return {
    schema: 1,
    store: options.store,
    host,
    backends,
    selected: backends.find((b) => b.usable)?.name ?? null,
    idMaps: idMapReport(
      options.idMap ?? "auto",
      options.host.realRoot,
      options.host.realRoot ? undefined : fullMapsMissing(
        detectFullMapHost(options.host.uid, options.hostPath),
      ),
    ),
    emulation: await emulationReports(
      options.hostPath,
      ociArch(Deno.build.arch) ?? Deno.build.arch,
      backends,
      (arch, qemu) => privateBinfmtVerdict(arch, qemu, options),
    ),
  };
}

/** The main program's `--version`, when it is on PATH. */
async function versionFor(
  backend: Backend,
  programs: Record<string, string | null>,
): Promise<string | null> {
  const name = backend.programs[0]!;
  const path = programs[name];
  if (!path) return null;
  try {
    const out = await runCaptured([path, "--version"], {});
    return versionOf(name, out.stdout + out.stderr) ?? null;
  } catch {
    return null;
  }
}

/**
 * Reads {@linkcode SYSCTLS} with a fixed `sh` script running `cat` (Deno
 * may not read `/proc`). Missing or unreadable ones are left out.
 */
async function readSysctls(
  hostPath: string,
): Promise<Partial<Record<SysctlName, number>>> {
  const sh = which("sh", hostPath);
  if (sh === undefined) return {};
  // `cat`, not `read`: a sysctl file read at an offset above 0 is empty, and
  // dash's `read` takes one byte at a time.
  const script =
    'for f; do v=$(cat -- "$f" 2>/dev/null) && echo "$f=$v"; done; exit 0';
  const files = SYSCTLS.map((n) => `/proc/sys/${n.replaceAll(".", "/")}`);
  const out = await runCaptured(
    [sh.path, "-c", script, "polythene-sysctl", ...files],
    { PATH: hostPath },
  );
  const values: Partial<Record<SysctlName, number>> = {};
  for (const line of out.stdout.split("\n")) {
    const [file, value] = line.split("=");
    const name = SYSCTLS.find((n) =>
      file === `/proc/sys/${n.replaceAll(".", "/")}`
    );
    if (name !== undefined && /^-?\d+$/.test(value ?? "")) {
      values[name] = Number(value);
    }
  }
  return values;
}
