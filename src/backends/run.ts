/**
 * Picks a backend and runs the command in it: the fallback loop.
 *
 * A backend is skipped when it needs root and this is not real root, when a
 * program it needs is not on PATH, when it cannot honour the options, or when
 * its probe fails (probes are cached). The probe runs a fixed setup that no
 * image controls, so no image can make exec skip a backend. A backend that
 * fails while setting up the real run is an error, never a reason to try the
 * next one. An image of another architecture (`spec.emulation`) skips each
 * backend that cannot emulate it, as a refusal, with the reason (see
 * `emulation.ts`). Backends weaker than the isolation floor are never tried. When a
 * backend other than the first is used, one line on stderr says why.
 * Once the command has started it never runs a second time: its status is
 * the answer.
 *
 * @module
 */

import {
  type BackendRejection,
  ExitCode,
  NoBackendError,
  SandboxSetupError,
} from "../errors.ts";
import {
  type OutputCapture,
  runAttached,
  runCaptured,
  spawnWatcher,
  type Watcher,
} from "../process/spawn.ts";
import { which } from "../process/which.ts";
import type { Backend, Programs, RunSpec } from "./backend.ts";
import type { HostFacts } from "./host.ts";
import type { ProbeCache } from "./probe_cache.ts";
import { emulationFix, emulationRefusal } from "./emulation.ts";
import { loadBackend } from "./backend_modules.ts";
import {
  atOrAbove,
  BACKEND_NAMES,
  type BackendName,
  backendOrder,
} from "./names.ts";
import { privateBinfmtOf } from "./binfmt.ts";
import { isPtyVariable, onOwnPty } from "./pty.ts";
import { nulSeparated, reportedExitCode, withStatusFd } from "./status.ts";
import { assessBackend, lastLine } from "./readiness.ts";
import { watcher as watcherFor } from "./signal_tree.ts";
import { needsHostCopies, withHostCopies } from "./host_copies.ts";
import { withOverlay } from "./overlay.ts";

/** How to choose and drive the backend. */
export interface SandboxOptions {
  /** Backend to try first. */
  preferred?: BackendName;
  /** The weakest backend that may be used (see `atOrAbove`). */
  floor?: BackendName;
  /**
   * Where the one line about a fall-back goes (`polythene: bubblewrap
   * unusable here (...); using proot`), shown whether or not `--verbose`.
   */
  notice?: (line: string) => void;
  /** The host's PATH, where backend programs are looked up. */
  hostPath: string;
  /** Facts about this host. */
  host: HostFacts;
  /** The probe cache. */
  cache: ProbeCache;
  /** Kill the command tree after this many milliseconds. */
  timeoutMs?: number;
  /** Capture the command's output; default: stdio is inherited. */
  capture?: OutputCapture;
  /** Verbose log sink. */
  log: (message: string) => void;
  /**
   * An existing directory only this user can enter (mode 0700), for the
   * status file and the file that carries `fdArgs`: `exec` gives the run's
   * directory in the store's state area, never the shared temp dir.
   */
  privateDir: string;
  /** Called with the backend's name once a command has run in it. */
  onRan?: (backend: BackendName) => void;
}

/**
 * Runs `spec` in the first backend that works.
 *
 * @returns The command's exit code (124 on timeout, 128+N on signal N).
 * @throws {NoBackendError} (exit 126) when no backend (at or above the
 * floor) could run it; {SandboxSetupError} (exit 126) when the chosen one
 * failed while setting up.
 */
export async function runInSandbox(
  spec: RunSpec,
  options: SandboxOptions,
): Promise<number> {
  const rejections: BackendRejection[] = [];
  const allowed = atOrAbove(options.floor);
  const names = backendOrder(options.preferred).filter((name) =>
    allowed.includes(name)
  );
  // Names only: values may be secrets (--env, --env-file), and the image's
  // are in `polythene inspect` for whoever needs them.
  options.log(
    `environment: ${
      Object.keys(spec.env).map((k) => `${k}=<redacted>`).join(" ")
    }`,
  );
  for (const name of names) {
    // Only the backends the loop reaches are loaded (`backend_modules.ts`).
    const backend = await loadBackend(name);
    const reject = (reason: string, fix?: string, refused?: boolean) => {
      options.log(`${backend.name}: unusable: ${reason}`);
      rejections.push({
        backend: backend.name,
        reason,
        fix,
        ...(refused ? { refused } : {}),
      });
    };
    const emulation = spec.emulation;
    const cannotEmulate = emulation &&
      emulationRefusal(backend.name, emulation);
    if (cannotEmulate !== undefined) {
      reject(
        cannotEmulate,
        emulation?.arch && emulationFix(backend.name, emulation.arch),
        true,
      );
      continue;
    }
    const refusal = backend.refuses?.(spec, options.host);
    if (refusal !== undefined) {
      reject(refusal, undefined, true);
      continue;
    }
    const ready = await assessBackend(backend, options);
    if (!ready.ok) {
      reject(ready.reason, ready.fix);
      continue;
    }
    if (rejections.length > 0) {
      options.notice?.(fallbackNotice(rejections, backend.name));
    }
    options.log(`using backend ${backend.name}`);
    const outcome = await runOnce(backend, spec, ready.programs, options);
    if (typeof outcome === "number") {
      options.onRan?.(backend.name);
      return outcome;
    }
    options.cache.set(ready.key, undefined);
    // So is the check of a private binfmt_misc instance it ran over.
    const binfmt = privateBinfmtOf(spec.emulation);
    if (backend.name !== "proot" && binfmt?.probeKey !== undefined) {
      options.cache.set(binfmt.probeKey, undefined);
    }
    throw new SandboxSetupError(backend.name, outcome.code, outcome.reason);
  }
  throw new NoBackendError(rejections, floorDetail(options.floor, names));
}

/**
 * The one line that says exec fell back, and why: each backend skipped
 * with its reason, then the one used. Pure.
 */
export function fallbackNotice(
  skipped: readonly BackendRejection[],
  used: BackendName,
): string {
  const why = skipped.map((r) => `${r.backend} unusable here (${r.reason})`);
  return `polythene: ${why.join("; ")}; using ${used}`;
}

function floorDetail(
  floor: BackendName | undefined,
  tried: readonly BackendName[],
): string {
  if (floor === undefined || tried.length === BACKEND_NAMES.length) return "";
  const left = BACKEND_NAMES.filter((name) => !tried.includes(name));
  return ` at or above the isolation floor (${floor}; not tried: ${
    left.join(", ")
  })`;
}

/** How a backend that exited before the command ran failed. */
interface SetupFailure {
  /** The backend's exit code. */
  code: number;
  /** Its last line on stderr, when captured. */
  reason?: string;
}

async function runOnce(
  backend: Backend,
  spec: RunSpec,
  programs: Programs,
  options: SandboxOptions,
): Promise<number | SetupFailure> {
  const invocation = withOverlay(
    backend.invocation(
      needsHostCopies(backend, spec)
        ? withHostCopies(spec, options.privateDir)
        : spec,
      options.host,
      programs,
    ),
    spec,
    options.host,
  );
  const statusFile = invocation.statusFd
    ? privateFile(options.privateDir, "polythene-status-")
    : undefined;
  const argsFile = invocation.fdArgs && writeArgsFile(
    invocation.fdArgs,
    options.privateDir,
  );
  try {
    const wrapped = statusFile === undefined ? invocation.argv : withStatusFd(
      programs.sh!,
      statusFile,
      invocation.argv,
      argsFile,
      invocation.fdSeccomp,
    );
    const pty = spec.terminal
      ? ptyFor(wrapped, invocation.env, programs, options)
      : undefined;
    options.log(`running: ${invocation.argv.join(" ")}`);
    const signalTree = backend.signalTree?.bind(backend);
    const underPty = pty !== undefined;
    let watcher: Watcher | undefined;
    const watch = signalTree !== undefined &&
        (backend.diesWithParent !== true || underPty)
      ? (pid: number) => {
        const reaper = signalTree(pid, "SIGKILL", programs, underPty);
        const w = watcherFor(programs.sh!, pid, reaper, underPty);
        watcher = spawnWatcher(w.argv, w.env);
      }
      : undefined;
    let stderr: Uint8Array | undefined;
    const capture = options.capture && {
      ...options.capture,
      collect(out: Uint8Array, err: Uint8Array) {
        stderr = err;
        options.capture!.collect(out, err);
      },
    };
    const result = await runAttached(pty?.argv ?? wrapped, {
      env: pty?.env ?? invocation.env,
      onStart: watch,
      timeoutMs: options.timeoutMs,
      // SIGHUP too: in a session of its own, the command no longer gets the
      // terminal's hangup from the kernel.
      forward: ["SIGINT", "SIGTERM", "SIGHUP"],
      capture,
      newSession: pty === undefined,
      gentleEnd: pty !== undefined,
      signalTree: signalTree && (async (pid, signal) => {
        const reaper = signalTree(pid, signal, programs, pty !== undefined);
        await runCaptured(reaper.argv, reaper.env);
      }),
    }).finally(() => watcher?.release());
    if (result.timedOut) {
      options.log(`timed out after ${options.timeoutMs} ms; tree killed`);
      return ExitCode.Timeout;
    }
    if (statusFile === undefined || result.forwarded) return result.code;
    const reported = reportedExitCode(readOr(statusFile));
    if (reported !== undefined) return reported;
    options.log(
      `${backend.name}: exited ${result.code} before the command ran`,
    );
    return {
      code: result.code,
      reason: stderr && lastLine(new TextDecoder().decode(stderr)),
    };
  } finally {
    if (statusFile !== undefined) removeQuietly(statusFile);
    if (argsFile !== undefined) removeQuietly(argsFile);
  }
}

/**
 * Writes `args` NUL-separated to a new file of mode 0600 in `dir`, for
 * bwrap's `--args 4`; removed once the backend exits.
 */
function writeArgsFile(args: readonly string[], dir: string): string {
  const file = privateFile(dir, "polythene-args-");
  Deno.writeTextFileSync(file, nulSeparated(args));
  return file;
}

/** A new empty file of mode 0600 in `dir`. */
function privateFile(dir: string, prefix: string): string {
  return Deno.makeTempFileSync({ dir, prefix });
}

/**
 * The backend's argv on a pty of its own (`pty.ts`), or undefined when
 * `script` is not on PATH or the backend's environment holds one of the
 * variables the relay uses: the command then runs in a session of its own,
 * without a controlling terminal, like a command without a terminal.
 */
function ptyFor(
  argv: readonly string[],
  env: Record<string, string>,
  programs: Programs,
  options: SandboxOptions,
): { argv: string[]; env: Record<string, string> } | undefined {
  const script = which("script", options.hostPath);
  if (script === undefined) {
    options.log("no util-linux script on PATH: the command gets no terminal");
    return undefined;
  }
  if (Object.keys(env).some(isPtyVariable)) {
    options.log("the environment sets POLYTHENE_ARG_*: no terminal");
    return undefined;
  }
  return onOwnPty(script.path, programs.sh!, argv, env);
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}
