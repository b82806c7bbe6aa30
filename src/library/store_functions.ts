/**
 * The library's store functions: `list`, `inspect`, `rm`, `prune`, `clone`
 * and `doctor` (re-exported by `functions.ts`).
 *
 * @module
 */

import { runDoctor } from "../backends/doctor.ts";
import type { DoctorReport } from "../backends/doctor.ts";
import { detectHost } from "../backends/host.ts";
import { ProbeCache } from "../backends/probe_cache.ts";
import { cloneEntry } from "../store/clone.ts";
import { type EntryInfo, inspectEntry, listStore } from "../store/entries.ts";
import { type PruneReport, pruneStore } from "../store/prune.ts";
import { removeEntries } from "../store/remove.ts";
import { checkStoreRoot } from "../store/root_safety.ts";
import { stateDir } from "../store/store.ts";

import type {
  DoctorOptions,
  PruneOptions,
  RemoveOptions,
  StoreOptions,
} from "./options.ts";
import { FALLBACK_PATH, hostEnv, logOf, storeOf } from "./_env.ts";
import { defaultIdMap } from "./defaults.ts";

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
