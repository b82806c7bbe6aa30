/**
 * `clone`: copy an entry into a new UUID, recording its parent. The copy is
 * made with `cp -a --reflink=auto` (a reflink where the filesystem supports
 * it, a full copy otherwise) into a locked staging directory, and published
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
import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";
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
import { copyInMappedIds } from "./mapped_ids.ts";
import { uuidV7 } from "./uuid_v7.ts";

/** Programs `clone` starts. */
export const CLONE_PROGRAMS = ["cp"] as const;

/** How to clone. */
export interface CloneOptions {
  /** The host's PATH, where `cp` is looked up. */
  hostPath: string;
  /** Mark the clone as made by `exec --ephemeral`. */
  ephemeral?: boolean;
  /** Keep a shared lock on the new entry and return it (ephemeral exec). */
  holdLock?: boolean;
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
export function cloneArgv(cp: string, from: string, to: string): string[] {
  return [cp, "-a", "--reflink=auto", "--", `${from}/.`, `${to}/`];
}

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
    const cp = which("cp", options.hostPath);
    if (cp === undefined) {
      throw new PolytheneError(`Cannot clone ${uuid}: cp is not on PATH`, {
        exitCode: 1,
      });
    }
    const created = new Date();
    const target = uuidV7(created.getTime());
    const staging = await createStaging(store, target);
    let published = false;
    let held: EntryLock | undefined;
    try {
      // In the user's full maps when they exist, so files of subordinate
      // ids (--id-map full) are read and keep their owners.
      const copy = options.copy?.(cp.path, staging.dir) ?? copyInMappedIds(
        cloneArgv(cp.path, source.path, staging.dir),
        { PATH: options.hostPath, LC_ALL: "C" },
      );
      const out = await runCaptured(copy.argv, copy.env);
      if (out.code !== 0) {
        throw new PolytheneError(
          `Cannot clone ${uuid}: cp failed (exit ${out.code}): ${
            out.stderr.trim().split("\n").slice(-1)[0] ?? ""
          }`,
          { exitCode: 1 },
        );
      }
      // Age (prune --older-than) counts from the clone, not the source.
      await Deno.utime(staging.dir, created, created);
      await writeMetadata(
        store,
        await cloneMetadata(store, uuid, source.path, target, created, options),
      );
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
