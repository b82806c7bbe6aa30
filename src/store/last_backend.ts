/**
 * Which backend last ran a command in an entry:
 * `STORE/.polythene/entries/<uuid>.backend`, one line. Written after the
 * command has ended, so it adds nothing before the command starts; a store
 * the user cannot write simply keeps no record.
 *
 * @module
 */

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
    if (Deno.readTextFileSync(path) === `${backend}\n`) return;
  } catch {
    // No record yet.
  }
  try {
    Deno.mkdirSync(`${stateDir(store)}/entries`, {
      recursive: true,
      mode: 0o700,
    });
    const tmp = `${path}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, `${backend}\n`, { mode: 0o644 });
    Deno.renameSync(tmp, path);
  } catch {
    // A read-only store keeps no record.
  }
}

/** The recorded backend of `uuid`, or null. */
export async function readLastBackend(
  store: string,
  uuid: string,
): Promise<string | null> {
  try {
    return (await Deno.readTextFile(lastBackendPath(store, uuid))).trim() ||
      null;
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
