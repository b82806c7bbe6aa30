/**
 * Which backend last ran a command in an entry:
 * `STORE/.polythene/entries/<uuid>.backend`, one line. Written after the
 * command has ended, so it adds nothing before the command starts; a store
 * the user cannot write simply keeps no record.
 *
 * @module
 */

import { writeFileNoFollowSync } from "./safe_write.ts";
import { stateDir } from "./store.ts";

/** `STORE/.polythene/entries/<uuid>.backend`. */
export function lastBackendPath(store: string, uuid: string): string {
  return `${stateDir(store)}/entries/${uuid}.backend`;
}

/** Records `backend` for `uuid`, unless it is already the record. */
export function recordLastBackend(
  store: string,
  uuid: string,
  backend: string,
): void {
  const path = lastBackendPath(store, uuid);
  try {
    // Only a regular file is read: a FIFO there would block.
    if (
      Deno.lstatSync(path).isFile &&
      Deno.readTextFileSync(path) === `${backend}\n`
    ) return;
  } catch {
    // No record yet.
  }
  try {
    const dir = `${stateDir(store)}/entries`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileNoFollowSync(dir, `${uuid}.backend`, `${backend}\n`);
  } catch {
    // A read-only store, or something other than a file in the way
    // (never followed, never waited on): no record.
  }
}

/** The recorded backend of `uuid`, or null. */
export async function readLastBackend(
  store: string,
  uuid: string,
): Promise<string | null> {
  const path = lastBackendPath(store, uuid);
  try {
    if (!(await Deno.lstat(path)).isFile) return null;
    return (await Deno.readTextFile(path)).trim() || null;
  } catch {
    return null;
  }
}

/** Removes the record; idempotent. */
export async function removeLastBackend(
  store: string,
  uuid: string,
): Promise<void> {
  await Deno.remove(lastBackendPath(store, uuid)).catch(() => {});
}
