/**
 * Picks a backend and runs the command in it: the fallback loop.
 *
 * A backend is skipped when it needs root and this is not real root, when a
 * program it needs is not on PATH, when its probe fails (probes are cached),
 * or when it fails while setting up. Once the command has started it never
 * runs a second time: its status is the answer.
 *
 * @module
 */

import { type BackendRejection, ExitCode, NoBackendError } from "../errors.ts";
import { runAttached, runCaptured } from "../process/spawn.ts";
import { type FoundProgram, which } from "../process/which.ts";
import type { Backend, Programs, RunSpec } from "./backend.ts";
import type { HostFacts } from "./host.ts";
import type { BackendName } from "./names.ts";
import { type ProbeCache, probeKey, type ProbeRecord } from "./probe_cache.ts";
import { backendsInOrder } from "./mod.ts";
import { reportedExitCode, withStatusFd } from "./status.ts";

/** How to choose and drive the backend. */
export interface SandboxOptions {
  /** Backend to try first. */
  preferred?: BackendName;
  /** The host's PATH, where backend programs are looked up. */
  hostPath: string;
  /** Facts about this host. */
  host: HostFacts;
  /** The probe cache. */
  cache: ProbeCache;
  /** Kill the command tree after this many milliseconds. */
  timeoutMs?: number;
  /** Verbose log sink. */
  log: (message: string) => void;
}

/**
 * Runs `spec` in the first backend that works.
 *
 * @returns The command's exit code (124 on timeout, 128+N on signal N).
 * @throws {NoBackendError} (exit 126) when no backend could run it.
 */
export async function runInSandbox(
  spec: RunSpec,
  options: SandboxOptions,
): Promise<number> {
  const rejections: BackendRejection[] = [];
  for (const backend of backendsInOrder(options.preferred)) {
    const reject = (reason: string, fix?: string) => {
      options.log(`${backend.name}: unusable: ${reason}`);
      rejections.push({ backend: backend.name, reason, fix });
    };
    if (backend.needsRoot && !options.host.realRoot) {
      reject(
        "needs real root (uid 0 in the initial user namespace)",
        "run as root",
      );
      continue;
    }
    const found = findPrograms(backend, options.hostPath);
    if (typeof found === "string") {
      reject(`"${found}" not found on PATH`, `install ${backend.package}`);
      continue;
    }
    const key = probeKey(backend.name, found, options.host);
    const probe = await probeCached(backend, found, key, options);
    if (!probe.ok) {
      reject(`probe failed: ${probe.reason ?? "unknown"}`, fixFor(backend));
      continue;
    }
    options.log(`using backend ${backend.name}`);
    const outcome = await runOnce(backend, spec, pathsOf(found), options);
    if (outcome !== undefined) return outcome;
    options.cache.set(key, undefined);
    reject("failed while setting up the sandbox", fixFor(backend));
  }
  throw new NoBackendError(rejections);
}

function findPrograms(
  backend: Backend,
  hostPath: string,
): Record<string, FoundProgram> | string {
  const found: Record<string, FoundProgram> = {};
  for (const name of backend.programs) {
    const program = which(name, hostPath);
    if (program === undefined) return name;
    found[name] = program;
  }
  return found;
}

function pathsOf(found: Record<string, FoundProgram>): Programs {
  return Object.fromEntries(
    Object.entries(found).map(([name, p]) => [name, p.path]),
  );
}

async function probeCached(
  backend: Backend,
  found: Record<string, FoundProgram>,
  key: string,
  options: SandboxOptions,
): Promise<ProbeRecord> {
  const cached = options.cache.get(key);
  if (cached !== undefined) {
    options.log(`${backend.name}: probe cached from ${cached.probedAt}`);
    return cached;
  }
  const programs = pathsOf(found);
  const probe = backend.probe(options.host, programs);
  options.log(`${backend.name}: probing: ${probe.argv.join(" ")}`);
  const result = await runCaptured(probe.argv, probe.env);
  const main = programs[backend.programs[0]!]!;
  const version = await runCaptured([main, "--version"], probe.env);
  const record: ProbeRecord = {
    ok: result.code === 0,
    reason: result.code === 0 ? undefined : lastLine(result.stderr) ??
      `exit ${result.code}`,
    version: versionOf(backend.programs[0]!, version.stdout + version.stderr),
    probedAt: new Date().toISOString(),
  };
  options.cache.set(key, record);
  return record;
}

async function runOnce(
  backend: Backend,
  spec: RunSpec,
  programs: Programs,
  options: SandboxOptions,
): Promise<number | undefined> {
  const invocation = backend.invocation(spec, options.host, programs);
  const statusFile = invocation.statusFd
    ? Deno.makeTempFileSync({ prefix: "polythene-status-" })
    : undefined;
  try {
    const argv = statusFile === undefined
      ? invocation.argv
      : withStatusFd(programs.sh!, statusFile, invocation.argv);
    options.log(`running: ${invocation.argv.join(" ")}`);
    const signalTree = backend.signalTree?.bind(backend);
    const result = await runAttached(argv, {
      env: invocation.env,
      timeoutMs: options.timeoutMs,
      forward: ["SIGINT", "SIGTERM"],
      signalTree: signalTree && (async (pid, signal) => {
        const reaper = signalTree(pid, signal, programs);
        await runCaptured(reaper.argv, reaper.env);
      }),
    });
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
    return undefined;
  } finally {
    if (statusFile !== undefined) removeQuietly(statusFile);
  }
}

function fixFor(backend: Backend): string | undefined {
  if (backend.name === "bubblewrap") {
    return "user namespaces may be restricted; try --isolation proot";
  }
  if (backend.name === "proot") return "ptrace may be blocked here";
  return undefined;
}

/**
 * `PROGRAM X.Y.Z` from a `--version` output: the first version number in it
 * (proot prints a logo first). Pure.
 */
export function versionOf(program: string, text: string): string | undefined {
  const match = /\b\d+\.\d+(?:\.\d+)?\b/.exec(text);
  return match ? `${program} ${match[0]}` : undefined;
}

function lastLine(text: string): string | undefined {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.at(-1);
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
