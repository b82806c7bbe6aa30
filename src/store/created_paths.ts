/**
 * The record of what polythene itself created inside an entry: the mount
 * points `exec` made for binds, host files and its snippets, and the
 * runtime directories pull added (`/dev`, `/proc`, `/tmp`) when the image
 * had none. One in-rootfs path per line in
 * `STORE/.polythene/created/<uuid>`, appended when something is created
 * (rare: once per path and entry), removed with the entry.
 *
 * `commit` leaves these paths out of an image while they are still what
 * polythene made (an empty file, an empty directory): it goes by this
 * record, not by appearance, so an image's own empty `/etc/hosts` is kept.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store's state
 * directory.
 *
 * @module
 */

import { stateDir } from "./store.ts";

/** `STORE/.polythene/created/<uuid>`. Pure. */
export function createdRecordPath(store: string, uuid: string): string {
  return `${stateDir(store)}/created/${uuid}`;
}

/**
 * Appends `paths` (absolute, inside the rootfs) to the record of the entry
 * at `rootfs` (`STORE/UUID`). Best effort: a rootfs outside a store, or a
 * store whose state directory cannot be written, is left without a record.
 */
export function recordCreated(rootfs: string, paths: readonly string[]) {
  if (paths.length === 0) return;
  const trimmed = rootfs.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return;
  appendCreated(
    trimmed.slice(0, slash) || "/",
    trimmed.slice(slash + 1),
    paths,
  );
}

/** {@linkcode recordCreated} for entry `uuid` of `store` (best effort). */
export function appendCreated(
  store: string,
  uuid: string,
  paths: readonly string[],
) {
  if (paths.length === 0) return;
  const path = createdRecordPath(store, uuid);
  try {
    if (!Deno.lstatSync(stateDir(store)).isDirectory) return;
    try {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { mode: 0o700 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    Deno.writeTextFileSync(path, paths.map((p) => `${p}\n`).join(""), {
      append: true,
      mode: 0o600,
    });
  } catch {
    // No state directory, or a read-only store: no record.
  }
}

/** The recorded paths of `uuid`, as keys without the leading `/`. */
export async function readCreated(
  store: string,
  uuid: string,
): Promise<Set<string>> {
  let text = "";
  try {
    text = await Deno.readTextFile(createdRecordPath(store, uuid));
  } catch {
    return new Set();
  }
  return new Set(
    text.split("\n").map((line) => line.replace(/^\/+/, "")).filter((line) =>
      line !== ""
    ),
  );
}

/** Removes the record of `uuid`; idempotent. */
export async function removeCreated(store: string, uuid: string) {
  await Deno.remove(createdRecordPath(store, uuid)).catch(() => {});
}
