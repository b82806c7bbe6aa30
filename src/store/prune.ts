/**
 * `prune`: remove the entries a filter selects, and always sweep what dead
 * processes left behind: staging directories of killed pulls and clones,
 * their unfinished `*.tmp` blobs, trash of crashed removals, clones of
 * `exec --ephemeral` runs that were killed, metadata without an entry, and
 * cached blobs that no entry refers to.
 *
 * Prunes are serialised by an exclusive lock on `STORE/.polythene/prune.lock`;
 * each entry is removed under its own exclusive lock, taken without waiting:
 * an entry in use is skipped and reported, never removed.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store.
 *
 * @module
 */

import { EntryBusyError, RootfsNotFoundError } from "../errors.ts";
import { type EntryInfo, listEntries } from "./entries.ts";
import { lockEntry } from "./lock.ts";
import { removeMetadata } from "./metadata.ts";
import { removeLocked, sweepTrash } from "./remove.ts";
import { checkStoreRoot } from "./root_safety.ts";
import { removeTree, stagingRoot } from "./staging.ts";
import { LayerStacks } from "./layer_stacks.ts";
import { stateDir, storeRootPath } from "./store.ts";
import { sweepRunDirs } from "./run_sweep.ts";

/** Which entries to remove. */
export interface PruneFilter {
  /** Remove every entry. */
  all: boolean;
  /** Remove entries whose directory was last modified longer ago than this. */
  olderThanMs?: number;
  /** The current time, in milliseconds. */
  now: number;
}

/** Why an entry was selected. */
export type PruneReason = "all" | "older-than" | "ephemeral";

/**
 * The entries `filter` selects, with the reason. `olderThanMs` narrows
 * `all` (both given: what is older). Clones left by killed
 * `exec --ephemeral` runs are always selected (their lock tells whether
 * they are still in use). Pure.
 */
export function selectForPrune(
  entries: readonly EntryInfo[],
  filter: PruneFilter,
): { entry: EntryInfo; reason: PruneReason }[] {
  const selected: { entry: EntryInfo; reason: PruneReason }[] = [];
  for (const entry of entries) {
    const age = filter.now - Date.parse(entry.modified);
    // The filters narrow: --all --older-than 1h is what is older than 1h.
    if (filter.olderThanMs !== undefined) {
      if (age > filter.olderThanMs) {
        selected.push({ entry, reason: "older-than" });
        continue;
      }
    } else if (filter.all) {
      selected.push({ entry, reason: "all" });
      continue;
    }
    if (entry.ephemeral) selected.push({ entry, reason: "ephemeral" });
  }
  return selected;
}

/**
 * The blobs that may be deleted: cached, not referred to by any remaining
 * entry. An entry pulled natively before pull recorded `blobs` may refer to
 * any of them, so then none is deleted. Pure.
 */
export function unreferencedBlobs(
  cached: readonly string[],
  remaining: readonly EntryInfo[],
): { digests: string[]; keptAll: boolean } {
  const unknown = remaining.some((e) =>
    e.blobs === null && e.kind !== "legacy" && e.kind !== "unknown" &&
    e.puller !== "podman"
  );
  if (unknown) return { digests: [], keptAll: true };
  const referenced = new Set(remaining.flatMap((e) => e.blobs ?? []));
  return {
    digests: cached.filter((digest) => !referenced.has(digest)),
    keptAll: false,
  };
}

/** What a prune did (or, with `dryRun`, would do). See docs/schemas/prune.json. */
export interface PruneReport {
  /** True when nothing was changed. */
  dryRun: boolean;
  /** Entries removed. */
  removed: {
    uuid: string;
    image: string | null;
    size: number | null;
    modified: string;
    reason: PruneReason;
  }[];
  /** Selected entries left alone because a process is using them. */
  busy: string[];
  /** Staging directories of dead pulls and clones that were swept. */
  staging: string[];
  /** Unfinished `*.tmp` blobs of dead pulls that were deleted. */
  temporaries: number;
  /** Trash directories of crashed removals that were deleted. */
  trash: number;
  /** Run directories of dead execs that were deleted (`run_dir.ts`). */
  runs: number;
  /** Metadata files without an entry that were deleted. */
  orphanMetadata: number;
  /** Cached blobs no entry refers to. */
  blobs: { removed: number; bytes: number; keptAll: boolean };
  /** Cached layer stacks (`layer_stacks.ts`) whose layers are unreferenced. */
  stacks: number;
}

/**
 * Prunes the store.
 *
 * @throws {UnsafeStoreError} when the store root is unsafe.
 */
export async function pruneStore(
  store: string,
  filter: PruneFilter,
  dryRun: boolean,
): Promise<PruneReport> {
  const report: PruneReport = {
    dryRun,
    removed: [],
    busy: [],
    staging: [],
    temporaries: 0,
    trash: 0,
    runs: 0,
    orphanMetadata: 0,
    blobs: { removed: 0, bytes: 0, keptAll: false },
    stacks: 0,
  };
  if (!await checkStoreRoot(store)) return report;
  const guard = dryRun ? undefined : await pruneLock(store);
  try {
    const entries = await listEntries(store);
    const gone = new Set<string>();
    for (const { entry, reason } of selectForPrune(entries, filter)) {
      const outcome = await tryRemove(store, entry.uuid, dryRun);
      if (outcome === "busy") {
        if (reason !== "ephemeral") report.busy.push(entry.uuid);
        continue;
      }
      gone.add(entry.uuid);
      if (outcome === "removed") {
        const { uuid, image, size, modified } = entry;
        report.removed.push({ uuid, image, size, modified, reason });
      }
    }
    const live = await liveStaging(store, dryRun, report);
    report.runs = await sweepRunDirs(store, dryRun);
    if (!dryRun) {
      report.trash = await sweepTrash(store);
      report.orphanMetadata = await sweepOrphanMetadata(store, live);
    }
    const remaining = entries.filter((e) => !gone.has(e.uuid));
    await sweepBlobs(store, remaining, live, dryRun, report);
    // Stacks follow the blobs' rule: kept while the entries left refer to
    // all of their layers, or while some entry does not say what it uses.
    const { keptAll } = unreferencedBlobs([], remaining);
    report.stacks = await new LayerStacks(store).sweep(
      keptAll ? undefined : new Set(remaining.flatMap((e) => e.blobs ?? [])),
      live.names,
      dryRun,
    );
  } finally {
    guard?.close();
  }
  return report;
}

async function pruneLock(store: string): Promise<Deno.FsFile> {
  await Deno.mkdir(stateDir(store), { recursive: true, mode: 0o700 });
  const file = await Deno.open(`${stateDir(store)}/prune.lock`, {
    create: true,
    write: true,
    mode: 0o600,
  });
  await file.lock(true);
  return file;
}

/** Removes an entry unless it is in use; dry, only tells whether it is. */
async function tryRemove(
  store: string,
  uuid: string,
  dryRun: boolean,
): Promise<"removed" | "busy" | "gone"> {
  try {
    const lock = await lockEntry(store, uuid, {
      mode: "exclusive",
      wait: false,
    });
    if (dryRun) {
      lock.release();
      return "removed";
    }
    await removeLocked(store, uuid, lock);
    return "removed";
  } catch (error) {
    if (error instanceof EntryBusyError) return "busy";
    if (error instanceof RootfsNotFoundError) return "gone";
    throw error;
  }
}

/**
 * Sweeps (or, dry, lists) staging left by dead processes.
 *
 * @returns The staging names still in use, with the time the oldest began.
 */
async function liveStaging(
  store: string,
  dryRun: boolean,
  report: PruneReport,
): Promise<{ names: Set<string>; since: number | undefined }> {
  const root = stagingRoot(store);
  const live = {
    names: new Set<string>(),
    since: undefined as number | undefined,
  };
  const names = new Set<string>();
  try {
    for await (const e of Deno.readDir(root)) {
      names.add(e.name.replace(/\.(lock|src)$/, ""));
    }
  } catch {
    return live;
  }
  for (const name of names) {
    const lockPath = `${root}/${name}.lock`;
    const file = await Deno.open(lockPath, { read: true }).catch(() =>
      undefined
    );
    const free = file === undefined || await file.tryLock(true);
    if (!free) {
      live.names.add(name);
      const started = (await file!.stat()).mtime?.getTime();
      if (started !== undefined) {
        live.since = Math.min(live.since ?? started, started);
      }
    } else {
      report.staging.push(name);
      if (!dryRun) {
        await removeTree(`${root}/${name}`).catch(() => {});
        await removeTree(`${root}/${name}.src`).catch(() => {});
        await Deno.remove(lockPath).catch(() => {});
      }
    }
    file?.close();
  }
  return live;
}

async function sweepOrphanMetadata(
  store: string,
  live: { names: Set<string> },
): Promise<number> {
  const dir = `${stateDir(store)}/entries`;
  let swept = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const uuid = /^(.+)\.(json|backend)$/.exec(e.name)?.[1];
      if (uuid === undefined || live.names.has(uuid)) continue;
      const exists = await Deno.lstat(`${storeRootPath(store)}/${uuid}`)
        .then(() => true, () => false);
      if (exists) continue;
      await removeMetadata(store, uuid);
      swept++;
    }
  } catch {
    // No metadata directory.
  }
  return swept;
}

async function sweepBlobs(
  store: string,
  remaining: readonly EntryInfo[],
  live: { names: Set<string>; since: number | undefined },
  dryRun: boolean,
  report: PruneReport,
): Promise<void> {
  const root = `${stateDir(store)}/blobs`;
  const cached: string[] = [];
  const sizes = new Map<string, number>();
  for (const algorithm of ["sha256", "sha512"]) {
    let dirents: Deno.DirEntry[] = [];
    try {
      dirents = await Array.fromAsync(Deno.readDir(`${root}/${algorithm}`));
    } catch {
      continue;
    }
    for (const e of dirents) {
      const path = `${root}/${algorithm}/${e.name}`;
      const info = await Deno.lstat(path).catch(() => undefined);
      if (info === undefined || !info.isFile) continue;
      const tmp = /^[0-9a-f]+\.(.+)\.tmp$/.exec(e.name);
      if (tmp !== null) {
        // A live pull's unfinished blob stays; a dead pull's goes.
        if (live.names.has(tmp[1]!)) continue;
        report.temporaries++;
        if (!dryRun) await Deno.remove(path).catch(() => {});
        continue;
      }
      // A blob a live pull may have just written, before its metadata.
      const mtime = info.mtime?.getTime() ?? 0;
      if (live.since !== undefined && mtime >= live.since - 1000) continue;
      const digest = `${algorithm}:${e.name}`;
      cached.push(digest);
      sizes.set(digest, info.size);
    }
  }
  const { digests, keptAll } = unreferencedBlobs(cached, remaining);
  report.blobs.keptAll = keptAll;
  for (const digest of digests) {
    const [algorithm, hex] = digest.split(":");
    if (!dryRun) {
      const ok = await Deno.remove(`${root}/${algorithm}/${hex}`).then(
        () => true,
        () => false,
      );
      if (!ok) continue;
    }
    report.blobs.removed++;
    report.blobs.bytes += sizes.get(digest) ?? 0;
  }
}
