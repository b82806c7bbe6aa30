/**
 * `clone`: copy an entry into a new UUID, recording its parent. The copy is
 * made by the store's copier (`copy_tree.ts`: a reflink where the filesystem
 * supports it, a full copy otherwise) into a locked staging directory, and published
 * by one rename, as `pull` does: a killed clone leaves only staging, which
 * the next pull or prune sweeps. The source holds a shared lock while it is
 * copied, so `rm` waits for the copy.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store,
 * `--allow-run=cp` ({@linkcode CLONE_PROGRAMS}).
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import {
  COPY_PROGRAMS,
  copyTree,
  copyTreeArgv,
  CopyTreeError,
  runCopy,
} from "./copy_tree.ts";
import { which } from "../process/which.ts";
import { appendCreated, readCreated } from "./created_paths.ts";
import { type EntryLock, lockEntry, lockNewDirectory } from "./lock.ts";
import {
  type EntryMetadata,
  parseLegacyMeta,
  readLegacyMetaFile,
  readMetadata,
  writeMetadata,
} from "./metadata.ts";
import { checkStoreRoot } from "./root_safety.ts";
import { createStaging } from "./staging.ts";
import { uuidV7 } from "./uuid_v7.ts";
import type { ProgressReporter } from "../progress.ts";
import { countTree, watchTree } from "./tree_count.ts";

/** Programs `clone` starts. */
export const CLONE_PROGRAMS = COPY_PROGRAMS;

/** How to clone. */
export interface CloneOptions {
  /** The host's PATH, where `cp` is looked up. */
  hostPath: string;
  /** Mark the clone as made by `exec --ephemeral`. */
  ephemeral?: boolean;
  /** Keep a shared lock on the new entry and return it (ephemeral exec). */
  holdLock?: boolean;
  /**
   * Told the copy's progress: one item, the entry's recorded size as its
   * total, the entries and bytes copied so far (the copy is counted every
   * 250 ms while `cp` runs, so only pass one that is shown).
   */
  progress?: ProgressReporter;
  /**
   * What fills the staging directory `to` instead of `cp -a` of the source
   * (`exec --ephemeral --keep` copies an overlay's result): an argv and its
   * environment, run with `cp` the host's `cp`.
   */
  copy?: (
    cp: string,
    to: string,
  ) => { argv: string[]; env: Record<string, string> };
}

/** A new clone. */
export interface Clone {
  /** Its UUID. */
  uuid: string;
  /** `STORE/<uuid>`. */
  path: string;
  /** The shared lock on it, when `holdLock` was set. */
  lock?: EntryLock;
}

/** The `cp` argv that copies the tree at `from` onto the directory `to`. Pure. */
export const cloneArgv = copyTreeArgv;

/**
 * Copies `STORE/<uuid>` into a new entry.
 *
 * @throws {UsageError} invalid UUID; {RootfsNotFoundError} no such entry;
 * {UnsafeStoreError}; {PolytheneError} (1) when the copy fails.
 */
export async function cloneEntry(
  store: string,
  uuid: string,
  options: CloneOptions,
): Promise<Clone> {
  await checkStoreRoot(store);
  const source = await lockEntry(store, uuid, { mode: "shared", wait: true });
  try {
    const created = new Date();
    const target = uuidV7(created.getTime());
    const staging = await createStaging(store, target);
    let published = false;
    let held: EntryLock | undefined;
    try {
      // In the user's full maps when they exist, so files of subordinate
      // ids (--id-map full) are read and keep their owners.
      const progress = options.progress;
      let unwatch = () => {};
      if (progress !== undefined) {
        const size = (await readMetadata(store, uuid))?.size;
        progress.start(`copy of ${uuid}`, size);
        unwatch = watchTree(staging.dir, 250, (count) => {
          progress.advance(count.bytes);
          progress.written(count.entries, count.bytes);
        });
      }
      const copying = options.copy === undefined
        ? copyTree(source.path, staging.dir, {
          hostPath: options.hostPath,
          mappedIds: true,
        })
        : copyWith(options.copy, options.hostPath, staging.dir);
      await copying.catch((error) => {
        throw new PolytheneError(`Cannot clone ${uuid}: ${error.message}`, {
          exitCode: 1,
          cause: error,
        });
      }).finally(unwatch);
      if (progress !== undefined) {
        const count = await countTree(staging.dir);
        progress.advance(count.bytes);
        progress.written(count.entries, count.bytes);
        progress.end();
      }
      // Age (prune --older-than) counts from the clone, not the source.
      await Deno.utime(staging.dir, created, created);
      await writeMetadata(
        store,
        await cloneMetadata(store, uuid, source.path, target, created, options),
      );
      const made = await readCreated(store, uuid);
      appendCreated(store, target, [...made].map((key) => `/${key}`));
      held = await lockNewDirectory(
        staging.dir,
        options.holdLock ? "shared" : "exclusive",
      );
      const path = await staging.publish(held);
      published = true;
      if (!options.holdLock) held.release();
      return { uuid: target, path, lock: options.holdLock ? held : undefined };
    } finally {
      if (!published) {
        held?.release();
        await staging.discard();
      }
    }
  } finally {
    source.release();
  }
}

async function cloneMetadata(
  store: string,
  parent: string,
  parentPath: string,
  uuid: string,
  created: Date,
  options: CloneOptions,
): Promise<EntryMetadata> {
  const meta = await readMetadata(store, parent);
  const marks = {
    uuid,
    created: created.toISOString(),
    parent,
    ...(options.ephemeral ? { ephemeral: true } : {}),
  };
  if (meta !== undefined) {
    const { ephemeral: _, ...rest } = meta;
    return { ...rest, ...marks };
  }
  let image = "";
  try {
    image = parseLegacyMeta(
      await readLegacyMetaFile(parentPath),
    ).image ?? "";
  } catch {
    // Not even a legacy entry: a hand-made tree.
  }
  return {
    schema: 1,
    reference: image,
    size: await treeBytes(parentPath),
    ...marks,
  };
}

/** Bytes of file content under `path` (as `du --apparent-size`). */
async function treeBytes(path: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(path)) {
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory) total += await treeBytes(child).catch(() => 0);
    else if (entry.isFile) {
      total += (await Deno.lstat(child).catch(() => ({ size: 0 }))).size;
    }
  }
  return total;
}

/** Runs the argv of `CloneOptions.copy` with the host's `cp`. */
async function copyWith(
  copy: NonNullable<CloneOptions["copy"]>,
  hostPath: string,
  to: string,
): Promise<void> {
  const cp = which("cp", hostPath);
  if (cp === undefined) throw new CopyTreeError("cp is not on PATH");
  await runCopy(copy(cp.path, to));
}
