/**
 * Staging and atomic publishing of store entries.
 *
 * A pull extracts into `STORE/.polythene/staging/<uuid>/` while holding an
 * exclusive `flock` on `STORE/.polythene/staging/<uuid>.lock`. Publishing is
 * one `rename` to `STORE/<uuid>`, so an entry is either absent or complete.
 * A process killed mid-way leaves only the staging directory, whose lock the
 * kernel releases; {@linkcode sweepStaging} removes such leftovers.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store.
 *
 * @module
 */

import { removeMapped } from "./mapped_ids.ts";
import { type EntryLock, lockNewDirectory } from "./lock.ts";
import { stateDir } from "./store.ts";
import { runRoot } from "./run_dir.ts";
import { spreadEntries } from "./spread.ts";
import type { Log } from "../log.ts";

/** A staging directory held by this process. */
export interface Staging {
  /** The new entry's UUID. */
  uuid: string;
  /** Where to extract: becomes `STORE/<uuid>` on publish. */
  dir: string;
  /** A private scratch directory (e.g. an unpacked archive), made on demand. */
  scratch(): Promise<string>;
  /**
   * Renames `dir` to `STORE/<uuid>` and releases the staging lock. The
   * rename happens under an exclusive entry lock on `dir` (see `lock.ts`),
   * or under `held`, a lock on `dir` the caller already took.
   */
  publish(held?: EntryLock): Promise<string>;
  /** Removes `dir` and releases the lock; safe to call twice. */
  discard(): Promise<void>;
}

/** `STORE/.polythene/staging`. */
export function stagingRoot(store: string): string {
  return `${stateDir(store)}/staging`;
}

/**
 * Creates the store (mode 0700) and a locked staging directory for `uuid`.
 * The staging root and the run root get ext4's `+T` (`spread.ts`), so that
 * each new entry, and each overlay upper of `exec --ephemeral`, is made in
 * a block group with room; `log` is told whether it did.
 */
export async function createStaging(
  store: string,
  uuid: string,
  log?: Log,
): Promise<Staging> {
  const root = stagingRoot(store);
  await Deno.mkdir(store, { recursive: true, mode: 0o700 });
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  await spreadEntries(root, log);
  // `exec --ephemeral`'s overlay uppers are made under the run root: the
  // guest's writes (a package install) land in a group with room too.
  const runs = runRoot(store);
  await Deno.mkdir(runs, { recursive: true, mode: 0o700 });
  await spreadEntries(runs, log);
  const lock = await lockStagingFile(`${root}/${uuid}.lock`);
  const dir = `${root}/${uuid}`;
  const scratch = `${root}/${uuid}.src`;
  await Deno.mkdir(dir, { mode: 0o755 });
  let done = false;
  const release = async () => {
    if (done) return;
    done = true;
    await removeTree(scratch);
    await removeQuietly(`${root}/${uuid}.lock`);
    lock.close();
  };
  return {
    uuid,
    dir,
    async scratch() {
      await Deno.mkdir(scratch, { recursive: true, mode: 0o700 });
      return scratch;
    },
    async publish(held?: EntryLock) {
      const target = `${store.replace(/\/+$/, "")}/${uuid}`;
      const lock = held ?? await lockNewDirectory(dir, "exclusive");
      try {
        await Deno.rename(dir, target);
      } finally {
        if (held === undefined) lock.release();
      }
      await release();
      return target;
    },
    async discard() {
      if (done) return;
      await removeTree(dir);
      await release();
    },
  };
}

/**
 * Removes staging directories whose owner has died (their lock is free).
 * Never blocks on a live pull.
 *
 * @returns The UUIDs swept.
 */
export async function sweepStaging(store: string): Promise<string[]> {
  const root = stagingRoot(store);
  const swept: string[] = [];
  let names: string[];
  try {
    names = [];
    for await (const entry of Deno.readDir(root)) names.push(entry.name);
  } catch {
    return swept;
  }
  const uuids = new Set(names.map((n) => n.replace(/\.(lock|src)$/, "")));
  for (const uuid of uuids) {
    const lockPath = `${root}/${uuid}.lock`;
    let lock: Deno.FsFile | undefined;
    try {
      lock = await Deno.open(lockPath, { create: true, write: true });
      if (!await lock.tryLock(true)) continue;
      // Unlinked or replaced meanwhile: the lock is not this path's.
      if (!await stillAt(lock, lockPath)) continue;
      await removeTree(`${root}/${uuid}`);
      await removeTree(`${root}/${uuid}.src`);
      await removeQuietly(lockPath);
      swept.push(uuid);
    } catch {
      // Not ours to sweep (permissions): leave it.
    } finally {
      lock?.close();
    }
  }
  return swept;
}

/**
 * Opens and exclusively locks a staging lock file, retrying when a sweeper
 * unlinked it between the open and the lock (the lock would then be held on
 * a file no one else can find).
 */
async function lockStagingFile(path: string): Promise<Deno.FsFile> {
  for (;;) {
    const file = await Deno.open(path, {
      create: true,
      write: true,
      mode: 0o600,
    });
    await file.lock(true);
    if (await stillAt(file, path)) return file;
    file.close();
  }
}

/** Whether `file` is still the file at `path`. */
async function stillAt(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [held, named] = await Promise.all([file.stat(), Deno.stat(path)]);
    return held.dev === named.dev && held.ino === named.ino;
  } catch {
    return false;
  }
}

/**
 * Removes a tree even when it holds read-only directories (mode 0555 from
 * an image): write permission is restored on the way down.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
    return;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
  }
  try {
    await makeWritable(path);
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    // Files of the user's subordinate ids (--id-map full): remove them in
    // the same mapping, as `podman unshare` would.
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    if (!await removeMapped(path)) throw error;
  }
}

async function makeWritable(path: string): Promise<void> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return;
  await Deno.chmod(path, ((info.mode ?? 0) & 0o7777) | 0o700);
  for await (const entry of Deno.readDir(path)) {
    if (entry.isDirectory) await makeWritable(`${path}/${entry.name}`);
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Already gone.
  }
}
