/**
 * A run's private directory in the store's state area,
 * `STORE/.polythene/run/<random>/` (mode 0700): the status file, the args
 * file and the copies of the host files that one `exec` binds in. Not in
 * the shared temp dir, where another user could plant links. It is locked
 * (`flock`) for the run's life, like an entry; a run that died (even by
 * SIGKILL) leaves it unlocked, and `prune` sweeps it.
 *
 * Permissions: `--allow-read` and `--allow-write` on the store.
 *
 * @module
 */

import { stateDir } from "./store.ts";
import { tryLockDirectory } from "./lock.ts";
import { removeMapped } from "./mapped_ids.ts";

/** The folder of run directories. Pure. */
export function runRoot(store: string): string {
  return `${stateDir(store)}/run`;
}

/** A run directory, held until disposed (then removed). */
export interface RunDir extends Disposable {
  /** Its absolute path. */
  readonly path: string;
}

/**
 * Makes and locks a new run directory. A sweep may take a fresh directory
 * before its lock is held; then another is made.
 */
export function openRunDir(store: string): RunDir {
  const root = runRoot(store);
  Deno.mkdirSync(root, { recursive: true, mode: 0o700 });
  for (;;) {
    const path = Deno.makeTempDirSync({ dir: root });
    const file = Deno.openSync(path, { read: true });
    file.lockSync(true);
    if (sameDirectory(path, file)) {
      return {
        path,
        [Symbol.dispose]: () => {
          try {
            Deno.removeSync(path, { recursive: true });
          } catch {
            // Already gone.
          }
          file.close();
        },
      };
    }
    file.close();
  }
}

function sameDirectory(path: string, file: Deno.FsFile): boolean {
  try {
    const named = Deno.lstatSync(path);
    const held = file.statSync();
    return named.isDirectory && named.ino === held.ino &&
      named.dev === held.dev;
  } catch {
    return false;
  }
}

/**
 * Removes (or, dry, counts) the run directories whose lock is free: those
 * of runs that died.
 *
 * @returns How many there were.
 */
export async function sweepRunDirs(
  store: string,
  dryRun: boolean,
): Promise<number> {
  const root = runRoot(store);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) names.push(entry.name);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const name of names) {
    const lock = await tryLockDirectory(`${root}/${name}`);
    if (lock === undefined) continue;
    try {
      if (!dryRun && !await removeRunTree(`${root}/${name}`)) continue;
      swept++;
    } catch {
      // Gone meanwhile.
    } finally {
      lock.release();
    }
  }
  return swept;
}

/**
 * Removes a tree a run left in its directory, an overlay's upper and work
 * among them. Made in a user namespace, these hold `work/work` of mode
 * `d---------` (overlayfs's) and, in full id maps, files of the user's
 * subordinate ids: so when a plain removal fails, the user's own
 * directories are made `u+rwx` (found with `lstat`: no link is followed)
 * and it is tried again, and then as uid 0 in the same full maps
 * (`mapped_ids.ts`).
 *
 * @returns true when the tree is gone.
 */
export async function removeRunTree(path: string): Promise<boolean> {
  const remove = () =>
    Deno.remove(path, { recursive: true }).then(
      () => true,
      (error) => error instanceof Deno.errors.NotFound,
    );
  if (await remove()) return true;
  await openDirectories(path);
  if (await remove()) return true;
  return await removeMapped(path) && !await exists(path);
}

/**
 * Adds `u+rwx` to every directory under `dir` that this user owns. Never as
 * root, who needs no permission bits (and whose `chmod`, which follows a
 * link, must never meet one a leftover guest swapped in).
 */
async function openDirectories(dir: string): Promise<void> {
  const uid = Deno.uid();
  if (uid === 0 || uid === null) return;
  try {
    const info = await Deno.lstat(dir);
    if (!info.isDirectory || info.uid !== uid) return;
    await Deno.chmod(dir, (info.mode ?? 0) & 0o7777 | 0o700);
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await openDirectories(`${dir}/${entry.name}`);
    }
  } catch {
    // Not ours, or gone: the next removal says.
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
