/**
 * Paths inside a store. The layout matches the Python original:
 * `STORE/<uuid>/` is the root filesystem itself; polythene's own state lives
 * under `STORE/.polythene/`.
 *
 * @module
 */

import { absolutePath } from "../path.ts";
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

/** The store root as an absolute path without trailing slashes. */
function trimSlash(path: string): string {
  return absolutePath(path).replace(/\/+$/, "");
}
