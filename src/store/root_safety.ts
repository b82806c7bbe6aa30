/**
 * Store root safety. The default store sits under `/var/tmp`, which anyone
 * can write to, so a store root is used only when it is a real directory
 * (not a symlink), owned by the current user, and not writable by group or
 * others. A missing root is created with mode 0700.
 *
 * As root (uid 0) the root must also be out of other users' reach (no group
 * or other bits): extraction as root keeps owners and setuid bits, and the
 * entries themselves must keep the image's own mode for `/` (normally
 * 0755), so a reachable store would let any local user run an image's
 * setuid-root program. Such a root is refused, not tightened: a chmod would
 * not take back a directory another user already holds open.
 *
 * The state directory `STORE/.polythene`, when it exists, is held to the
 * same rules.
 *
 * Permissions: `--allow-read` (lstat), `--allow-write` when creating,
 * `--allow-sys=uid`.
 *
 * @module
 */

import { UnsafeStoreError } from "../errors.ts";
import { stateDir } from "./store.ts";

/** What {@linkcode storeRootProblem} looks at. */
export interface RootFacts {
  /** From `lstat`: the root itself is a symlink. */
  isSymlink: boolean;
  /** It is a directory. */
  isDirectory: boolean;
  /** Owner uid. */
  uid: number | null;
  /** Permission bits. */
  mode: number | null;
}

/**
 * Why an existing store root must not be used, or undefined when it is
 * safe. Pure.
 *
 * @param facts What `lstat` says about the root.
 * @param uid The current user's uid.
 */
export function storeRootProblem(
  facts: RootFacts,
  uid: number,
): string | undefined {
  if (facts.isSymlink) return "it is a symlink";
  if (!facts.isDirectory) return "it is not a directory";
  if (facts.uid !== null && facts.uid !== uid) {
    return `it is owned by uid ${facts.uid}, not by you (uid ${uid})`;
  }
  const mode = facts.mode ?? 0;
  if ((mode & 0o022) !== 0) {
    return `it is writable by ${
      (mode & 0o020) && (mode & 0o002)
        ? "group and others"
        : mode & 0o020
        ? "its group"
        : "others"
    } (mode ${modeText(mode)})`;
  }
  if (uid === 0 && (mode & 0o077) !== 0) {
    return `as root it must be reachable by you alone (mode ${
      modeText(mode)
    }), or other users could run the images' setuid programs`;
  }
  return undefined;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/**
 * Checks the store root; creates it with mode 0700 when `create` is set and
 * it does not exist.
 *
 * @returns false when the root does not exist (and was not created).
 * @throws {UnsafeStoreError} when it exists but is unsafe.
 */
export async function checkStoreRoot(
  store: string,
  options: { create?: boolean } = {},
): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(store);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw unusable(store, error);
    if (!options.create) return false;
    await createRoot(store).catch((error) => {
      throw unusable(store, error);
    });
    info = await Deno.lstat(store);
  }
  refuseUnsafe(store, info);
  let state: Deno.FileInfo | undefined;
  try {
    state = await Deno.lstat(stateDir(store));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw unusable(store, error);
  }
  if (state !== undefined) refuseUnsafe(store, state, STATE);
  return true;
}

/**
 * {@linkcode checkStoreRoot} for an existing root, synchronously: one
 * `lstat`, for `exec`'s hot path.
 *
 * @returns false when the root does not exist.
 * @throws {UnsafeStoreError} when it exists but is unsafe.
 */
export function checkStoreRootSync(store: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(store);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw unusable(store, error);
  }
  refuseUnsafe(store, info);
  let state: Deno.FileInfo | undefined;
  try {
    state = Deno.lstatSync(stateDir(store));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw unusable(store, error);
  }
  if (state !== undefined) refuseUnsafe(store, state, STATE);
  return true;
}

/** The error for a store root that cannot even be looked at or made. */
function unusable(store: string, error: unknown): UnsafeStoreError {
  const why = error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : error instanceof Deno.errors.NotADirectory
    ? "a parent of it is not a directory"
    : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
  return new UnsafeStoreError(store, `it cannot be used: ${why}`);
}

/** How the state directory is named in a refusal. */
const STATE = 'its state directory ".polythene": ';

/**
 * Throws {@linkcode UnsafeStoreError} when `info` shows an unsafe root (or,
 * with `what`, an unsafe directory of it).
 */
function refuseUnsafe(store: string, info: Deno.FileInfo, what = ""): void {
  const problem = storeRootProblem(
    {
      isSymlink: info.isSymlink,
      isDirectory: info.isDirectory,
      uid: info.uid,
      mode: info.mode,
    },
    Deno.uid() ?? 0,
  );
  if (problem !== undefined) {
    throw new UnsafeStoreError(store, what + problem);
  }
}

async function createRoot(store: string): Promise<void> {
  const parent = store.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
  if (parent !== "") await Deno.mkdir(parent, { recursive: true });
  try {
    await Deno.mkdir(store, { mode: 0o700 });
  } catch (error) {
    // Another process made it first: it is checked like any existing root.
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return;
  }
  await Deno.chmod(store, 0o700);
}
