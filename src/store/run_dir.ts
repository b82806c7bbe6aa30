/**
 * A run's private directory in the store's state area,
 * `STORE/.polythene/run/<random>/` (mode 0700): the status file, the args
 * file and the copies of the host files that one `exec` binds in. Not in
 * the shared temp dir, where another user could plant links. It is locked
 * (`flock`) for the run's life, like an entry; a run that died (even by
 * SIGKILL) leaves it unlocked, and `prune` sweeps it (`run_sweep.ts`, apart
 * so that every `exec` does not load the removal of mapped ids).
 *
 * Permissions: `--allow-read` and `--allow-write` on the store.
 *
 * @module
 */

import { stateDir } from "./store.ts";

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
