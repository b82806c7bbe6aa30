/**
 * Whether a backend can run here, before any command: real root when it
 * needs it, its programs on PATH, then its probe (cached). `exec`'s fallback
 * loop (`run.ts`) and `doctor` share it, so `doctor` says what `exec` would do.
 *
 * @module
 */

import { runCaptured } from "../process/spawn.ts";
import { type FoundProgram, which } from "../process/which.ts";
import {
  type Backend,
  type HostInfo,
  packageOf,
  type Programs,
  programsNeeded,
} from "./backend.ts";
import type { HostFacts } from "./host.ts";
import { type ProbeCache, probeKey, type ProbeRecord } from "./probe_cache.ts";

/** What {@linkcode assessBackend} needs. */
export interface ReadinessOptions {
  /** The host's PATH, where backend programs are looked up. */
  hostPath: string;
  /** Facts about this host. */
  host: HostFacts;
  /** The probe cache. */
  cache: ProbeCache;
  /** Verbose log sink. */
  log: (message: string) => void;
}

/** Whether a backend can run here, before any command: see {@linkcode assessBackend}. */
export type Readiness =
  | {
    ok: true;
    /** Absolute paths of its programs. */
    programs: Programs;
    /** Its probe cache key. */
    key: string;
    /** Its probe result (ok). */
    probe: ProbeRecord;
  }
  | {
    ok: false;
    /** Which check failed. */
    stage: "root" | "programs" | "probe";
    /** One line, as `exec` reports it. */
    reason: string;
    /** What to do, when there is something to say. */
    fix?: string;
    /** The failed probe, for `stage: "probe"`. */
    probe?: ProbeRecord;
    /** The program not on PATH, for `stage: "programs"`. */
    missing?: string;
  };

/**
 * The checks `exec` makes before it runs anything in `backend`, in its order:
 * real root when needed, its programs on PATH, then its probe (from the
 * cache; probed and cached when absent, or always with `refresh`).
 * `exec` and `doctor` share it, so `doctor` says what `exec` would do.
 */
export async function assessBackend(
  backend: Backend,
  options: ReadinessOptions,
  refresh = false,
): Promise<Readiness> {
  if (backend.needsRoot && !options.host.realRoot) {
    return {
      ok: false,
      stage: "root",
      reason: "needs real root (uid 0 in the initial user namespace)",
      fix: "run as root",
    };
  }
  const found = findPrograms(backend, options.host, options.hostPath);
  if (typeof found === "string") {
    return {
      ok: false,
      stage: "programs",
      reason: `"${found}" not found on PATH`,
      fix: `install ${packageOf(found, backend)}`,
      missing: found,
    };
  }
  const key = probeKey(backend.name, found, options.host);
  if (refresh) options.cache.set(key, undefined);
  const probe = await probeCached(backend, found, key, options);
  if (!probe.ok) {
    return {
      ok: false,
      stage: "probe",
      reason: `probe failed: ${probe.reason ?? "unknown"}`,
      fix: fixFor(backend),
      probe,
    };
  }
  return { ok: true, programs: pathsOf(found), key, probe };
}

function findPrograms(
  backend: Backend,
  host: HostInfo,
  hostPath: string,
): Record<string, FoundProgram> | string {
  const found: Record<string, FoundProgram> = {};
  for (const name of programsNeeded(backend, host)) {
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
  options: Omit<ReadinessOptions, "hostPath">,
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
    stderr: result.code === 0 ? undefined : tailOf(result.stderr),
    version: versionOf(backend.programs[0]!, version.stdout + version.stderr),
    probedAt: new Date().toISOString(),
  };
  options.cache.set(key, record);
  return record;
}

/** What may make `backend` usable after a failed probe or set-up. */
export function fixFor(backend: Backend): string | undefined {
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

/** The last 2000 characters of `text`, trimmed; undefined when empty. */
function tailOf(text: string): string | undefined {
  const tail = text.trim().slice(-2000);
  return tail === "" ? undefined : tail;
}

/** The last non-empty line of `text`, trimmed. Pure. */
export function lastLine(text: string): string | undefined {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.at(-1);
}
