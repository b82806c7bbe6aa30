/**
 * Paths inside a store. The layout matches the Python original:
 * `STORE/<uuid>/` is the root filesystem itself; polythene's own state lives
 * under `STORE/.polythene/`.
 *
 * @module
 */

import { resolve } from "node:path";
import { RootfsNotFoundError } from "../errors.ts";
import { validateUuid } from "./uuid.ts";

/** The default store root. */
export const DEFAULT_STORE = "/var/tmp/polythene";

/** `STORE/.polythene`, the store's private state directory. */
export function stateDir(store: string): string {
  return `${trimSlash(store)}/.polythene`;
}

/** The store root as an absolute path without trailing slashes. Pure. */
export function storeRootPath(store: string): string {
  return trimSlash(store);
}

/** `STORE/.polythene/trash`, where removal renames entries before deleting. */
export function trashDir(store: string): string {
  return `${stateDir(store)}/trash`;
}

/** The rootfs path of `uuid`, validated first. Pure. */
export function entryPath(store: string, uuid: string): string {
  return `${trimSlash(store)}/${validateUuid(uuid)}`;
}

/**
 * The rootfs of `uuid`, which must be a directory.
 *
 * @throws {UsageError} for an invalid UUID.
 * @throws {RootfsNotFoundError} (exit 1) when it is not a directory.
 */
export function requireEntry(store: string, uuid: string): string {
  const path = entryPath(store, uuid);
  let isDirectory = false;
  try {
    isDirectory = Deno.statSync(path).isDirectory;
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw new RootfsNotFoundError(uuid, path);
  return path;
}

/** The store root as an absolute path without trailing slashes. */
function trimSlash(path: string): string {
  return resolve(path).replace(/\/+$/, "");
}
