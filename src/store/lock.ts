/**
 * Per-entry locks: an `flock` on the entry directory itself
 * (`STORE/<uuid>`), taken through Deno's `FsFile.lock`. The lock follows the
 * directory's inode, so it stays with the tree when removal renames it into
 * the trash, and an entry needs no lock file of its own (legacy entries
 * included).
 *
 * - `exec` holds a shared lock while its command runs.
 * - `rm`, `prune` and the publish step of `pull` and `clone` hold an
 *   exclusive lock.
 * - `list` and `inspect` never lock.
 *
 * Locking also re-checks the entry path: it must be a real directory inside
 * the store (`lstat`, not a symlink), and the directory opened must be the
 * one that was checked (same device and inode), before and after waiting.
 *
 * A waiting remover is not starved by a stream of new `exec`s: `flock` has no
 * writer preference, so each entry also has a gate,
 * `STORE/.polythene/gates/<uuid>`. A remover that waits holds the gate
 * exclusively until it has the entry's lock; shared lockers pass the gate
 * (shared) before they lock the entry, so once a remover is waiting, new
 * ones queue behind it.
 *
 * Permissions: `--allow-read` on the store.
 *
 * @module
 */

import { EntryBusyError, RootfsNotFoundError } from "../errors.ts";
import { checkStoreRootSync } from "./root_safety.ts";
import { entryPath, stateDir } from "./store.ts";

/** A held entry lock; `release()` (or `using`) lets it go. Idempotent. */
export interface EntryLock extends Disposable {
  /** `STORE/<uuid>` as checked. */
  readonly path: string;
  /** Releases the lock; safe to call twice. */
  release(): void;
}

/** How to lock. */
export interface LockOptions {
  /** `shared` (exec) or `exclusive` (rm, prune). */
  mode: "shared" | "exclusive";
  /** false: fail with {@linkcode EntryBusyError} instead of waiting. */
  wait: boolean;
  /** What the caller is about to do, for the busy message ("removing"). */
  doing?: string;
}

/**
 * Locks `STORE/<uuid>`.
 *
 * @throws {UsageError} for an invalid UUID; {RootfsNotFoundError} when the
 * entry is missing, is not a real directory, or was removed while waiting;
 * {EntryBusyError} when `wait` is false and another process holds a
 * conflicting lock.
 */
export async function lockEntry(
  store: string,
  uuid: string,
  options: LockOptions,
): Promise<EntryLock> {
  const path = entryPath(store, uuid);
  const before = await realDirectory(uuid, path);
  const file = await Deno.open(path, { read: true }).catch(() => {
    throw new RootfsNotFoundError(uuid, path);
  });
  const exclusive = options.mode === "exclusive";
  using gate = options.wait ? openGate(store, uuid) : undefined;
  try {
    if (!sameFile(before, await file.stat())) {
      throw new RootfsNotFoundError(uuid, path);
    }
    if (options.wait) {
      await gate?.lock(exclusive);
      await file.lock(exclusive);
    } else if (!await file.tryLock(exclusive)) {
      throw new EntryBusyError(uuid, options.doing ?? "using");
    }
    // Removed or replaced while we waited: the lock is on a dead tree.
    const after = await realDirectory(uuid, path);
    if (!sameFile(before, after)) throw new RootfsNotFoundError(uuid, path);
  } catch (error) {
    file.close();
    throw error;
  }
  return fileLock(path, file);
}

/**
 * Locks a directory this process has just made and nobody else knows yet
 * (a staging directory about to be published); never waits. Pure wrapper
 * around `FsFile.lock`.
 */
export async function lockNewDirectory(
  path: string,
  mode: "shared" | "exclusive",
): Promise<EntryLock> {
  const file = await Deno.open(path, { read: true });
  await file.lock(mode === "exclusive");
  return fileLock(path, file);
}

/**
 * Whether another process holds a lock on the directory at `path`; takes
 * and drops an exclusive lock without waiting. Used only by sweeps, which
 * must never remove what is in use.
 *
 * @returns a held exclusive lock, or undefined when it is busy or gone.
 */
export async function tryLockDirectory(
  path: string,
): Promise<EntryLock | undefined> {
  let file: Deno.FsFile;
  try {
    const info = await Deno.lstat(path);
    if (!info.isDirectory) return undefined;
    file = await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
  if (!await file.tryLock(true).catch(() => false)) {
    file.close();
    return undefined;
  }
  return fileLock(path, file);
}

function fileLock(path: string, file: Deno.FsFile): EntryLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    file.close();
  };
  return { path, release, [Symbol.dispose]: release };
}

async function realDirectory(uuid: string, path: string) {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    throw new RootfsNotFoundError(uuid, path);
  }
  if (info.isSymlink || !info.isDirectory) {
    throw new RootfsNotFoundError(
      uuid,
      path,
      info.isSymlink ? "a symlink" : "not a directory",
    );
  }
  return info;
}

/** `STORE/.polythene/gates/<uuid>`, the entry's gate (see the module doc). */
export function gatePath(store: string, uuid: string): string {
  return `${stateDir(store)}/gates/${uuid}`;
}

/**
 * Opens the entry's gate, creating it (mode 0600, in a 0700 directory) when
 * missing; closing the file drops its lock. Undefined when it cannot be had
 * (a read-only store): locking then works as plain `flock`, without writer
 * preference.
 */
function openGate(store: string, uuid: string): Deno.FsFile | undefined {
  const path = gatePath(store, uuid);
  const open = () =>
    Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  try {
    return open();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
  }
  try {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), {
      recursive: true,
      mode: 0o700,
    });
    return open();
  } catch {
    return undefined;
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * The shared lock `exec` holds while its command runs: the store root is
 * checked, then the entry is locked as {@linkcode lockEntry} does, with
 * synchronous calls (each async file call is a thread-pool round trip, and
 * this is the hot path). It waits while `rm` or `prune` holds the entry.
 *
 * @throws {UnsafeStoreError}; {RootfsNotFoundError} when the entry is not a
 * real directory, or was replaced while waiting.
 */
export function lockForExec(store: string, uuid: string): EntryLock {
  checkStoreRootSync(store);
  const path = entryPath(store, uuid);
  const before = realDirectorySync(uuid, path);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    throw new RootfsNotFoundError(uuid, path);
  }
  using gate = openGate(store, uuid);
  try {
    if (!sameFile(before, file.statSync())) {
      throw new RootfsNotFoundError(uuid, path);
    }
    gate?.lockSync(false);
    file.lockSync(false);
    if (!sameFile(before, realDirectorySync(uuid, path))) {
      throw new RootfsNotFoundError(uuid, path);
    }
  } catch (error) {
    file.close();
    throw error;
  }
  return fileLock(path, file);
}

function realDirectorySync(uuid: string, path: string): Deno.FileInfo {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    throw new RootfsNotFoundError(uuid, path);
  }
  if (info.isSymlink || !info.isDirectory) {
    throw new RootfsNotFoundError(
      uuid,
      path,
      info.isSymlink ? "a symlink" : "not a directory",
    );
  }
  return info;
}

/**
 * Takes an exclusive `flock` on the lock file at `path` (created with mode
 * 0600 when missing), waiting for other holders: it serialises the
 * read-modify-write of a small shared state file such as the local image
 * store's `index.json`. The file's parent must be a private directory
 * (mode 0700) this process made or checked, so nobody else can have put a
 * link at `path`; the lock file itself is never written to.
 */
export async function lockStateFile(path: string): Promise<EntryLock> {
  const file = await Deno.open(path, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    await file.lock(true);
  } catch (error) {
    file.close();
    throw error;
  }
  return fileLock(path, file);
}
