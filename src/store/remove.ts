/**
 * Two-step removal of entries: under an exclusive lock, `STORE/<uuid>` is
 * renamed into `STORE/.polythene/trash/` (atomic: the entry is gone from
 * view at once), its metadata is removed, then the tree is deleted. A crash
 * leaves only a trash directory, never a half-deleted entry; the next `rm`
 * or `prune` sweeps the trash. Read-only directories (mode 0555 from an
 * image) are made writable on the way down.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import {
  type EntryLock,
  gatePath,
  lockEntry,
  tryLockDirectory,
} from "./lock.ts";
import { removeMetadata } from "./metadata.ts";
import { checkStoreRoot } from "./root_safety.ts";
import { removeTree } from "./staging.ts";
import { trashDir } from "./store.ts";
import { validateUuid } from "./uuid.ts";

/** How to remove. */
export interface RemoveOptions {
  /** false: fail with EntryBusyError when the entry is in use. */
  wait: boolean;
}

/**
 * Removes several entries, as `polythene rm` does: every UUID is validated
 * before anything is removed, then each is removed in turn, and the first
 * failure stops.
 *
 * @throws {UsageError} an invalid UUID (nothing removed);
 * {UnsafeStoreError}; {RootfsNotFoundError}; {EntryBusyError}; any other
 * failure as {PolytheneError} (1) `Cannot remove UUID: ...`.
 */
export async function removeEntries(
  store: string,
  uuids: readonly string[],
  options: RemoveOptions & { log?: (message: string) => void },
): Promise<void> {
  for (const uuid of uuids) validateUuid(uuid);
  await checkStoreRoot(store);
  for (const uuid of uuids) {
    try {
      await removeEntry(store, uuid, options);
    } catch (error) {
      if (error instanceof PolytheneError || !(error instanceof Error)) {
        throw error;
      }
      throw new PolytheneError(`Cannot remove ${uuid}: ${error.message}`, {
        exitCode: 1,
        cause: error,
      });
    }
    options.log?.(`removed ${uuid}`);
  }
}

/**
 * Removes `STORE/<uuid>`; waits for running commands unless `wait` is false.
 *
 * @throws {UsageError} invalid UUID; {RootfsNotFoundError} no such entry;
 * {EntryBusyError} busy with `wait: false`.
 */
export async function removeEntry(
  store: string,
  uuid: string,
  options: RemoveOptions,
): Promise<void> {
  const lock = await lockEntry(store, uuid, {
    mode: "exclusive",
    wait: options.wait,
    doing: "removing",
  });
  await removeLocked(store, uuid, lock);
}

/**
 * Removes an entry whose exclusive lock the caller holds, and releases the
 * lock. Idempotent on the trash side: a crash at any point leaves either the
 * entry or a trash directory.
 */
export async function removeLocked(
  store: string,
  uuid: string,
  lock: EntryLock,
): Promise<void> {
  let trashed: string;
  try {
    const trash = trashDir(store);
    await Deno.mkdir(trash, { recursive: true, mode: 0o700 });
    trashed = `${trash}/${uuid}.${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(lock.path, trashed);
    await removeMetadata(store, uuid);
    await Deno.remove(gatePath(store, uuid)).catch(() => {});
  } catch (error) {
    lock.release();
    throw error;
  }
  // Still locked: a sweep in another process leaves it alone.
  try {
    await removeTree(trashed);
  } finally {
    lock.release();
  }
}

/**
 * Deletes trash left by removals that crashed. Trash still locked by a
 * removal in progress is left alone.
 *
 * @returns How many trash directories were deleted.
 */
export async function sweepTrash(store: string): Promise<number> {
  const trash = trashDir(store);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(trash)) names.push(entry.name);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const name of names) {
    const path = `${trash}/${name}`;
    const lock = await tryLockDirectory(path);
    if (lock === undefined) {
      // Not a directory (a stray file) or busy.
      const info = await Deno.lstat(path).catch(() => undefined);
      if (info !== undefined && !info.isDirectory) {
        await Deno.remove(path).catch(() => {});
      }
      continue;
    }
    try {
      await removeTree(path);
      swept++;
    } catch {
      // Another sweeper got there first, or it is not ours: leave it.
    } finally {
      lock.release();
    }
  }
  return swept;
}
