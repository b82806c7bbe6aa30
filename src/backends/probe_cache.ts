/**
 * Per-host cache of probe results, kept in `STORE/.polythene/probes.json`,
 * so a warm `exec` starts no probe process.
 *
 * The key covers the backend, each program's path and build fingerprint
 * (size, mtime, inode: it changes whenever the binary is replaced), the uid,
 * whether that uid is real root, and the kernel release. Deno cannot read
 * `/proc` without `--allow-all`, so a sysctl change (such as
 * `max_user_namespaces`) is not in the key: it shows as a setup failure at
 * run time, which drops the entry and falls through to the next backend.
 *
 * Writes are atomic (temporary file, then rename); a cache that cannot be
 * read or written is treated as empty, never as an error.
 *
 * @module
 */

import type { FoundProgram } from "../process/which.ts";
import type { HostFacts } from "./host.ts";

/** One cached probe outcome. */
export interface ProbeRecord {
  /** True when the backend could create its sandbox. */
  ok: boolean;
  /** Why it could not, one line. */
  reason?: string;
  /** The failed probe's stderr (its last lines), for `doctor`. */
  stderr?: string;
  /** The main program's `--version`, first line. */
  version?: string;
  /** When the probe ran (ISO 8601). */
  probedAt: string;
}

/** The cache key for one backend on this host. Pure. */
export function probeKey(
  backend: string,
  programs: Readonly<Record<string, FoundProgram>>,
  host: HostFacts,
): string {
  const progs = Object.entries(programs)
    .map(([name, p]) => `${name}=${p.path}@${p.fingerprint}`)
    .sort();
  return [
    backend,
    ...progs,
    `uid=${host.uid}`,
    `root=${host.realRoot}`,
    `kernel=${host.kernel}`,
  ].join("|");
}

/** The probe cache file of one store. */
export class ProbeCache {
  readonly #file: string;
  #records: Record<string, ProbeRecord> | undefined;

  /** @param file Path of the JSON file; it need not exist. */
  constructor(file: string) {
    this.#file = file;
  }

  /** The record for `key`, if cached; a malformed record counts as absent. */
  get(key: string): ProbeRecord | undefined {
    const record: unknown = this.#load()[key];
    return isProbeRecord(record) ? record : undefined;
  }

  /** Stores `record` under `key` and writes the file. Errors are ignored. */
  set(key: string, record: ProbeRecord | undefined): void {
    const records = this.#load();
    if (record === undefined) delete records[key];
    else records[key] = record;
    try {
      const dir = this.#file.slice(0, this.#file.lastIndexOf("/"));
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${this.#file}.${Deno.pid}.tmp`;
      Deno.writeTextFileSync(tmp, JSON.stringify(records, null, 2) + "\n", {
        mode: 0o600,
      });
      Deno.renameSync(tmp, this.#file);
    } catch {
      // A read-only store just means no cache.
    }
  }

  #load(): Record<string, ProbeRecord> {
    if (this.#records !== undefined) return this.#records;
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(this.#file));
      this.#records = typeof parsed === "object" && parsed !== null &&
          !Array.isArray(parsed)
        ? parsed
        : {};
    } catch {
      this.#records = {};
    }
    return this.#records!;
  }
}

/** True when `value` has the shape of a {@linkcode ProbeRecord}. Pure. */
function isProbeRecord(value: unknown): value is ProbeRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.ok === "boolean" &&
    typeof record.probedAt === "string" &&
    (record.reason === undefined || typeof record.reason === "string");
}
