/**
 * Reading the entries of a store for `list` and `inspect`. Never locks and
 * never writes: a concurrent pull, exec or rm cannot block or fail it. An
 * entry removed while it is read is simply left out.
 *
 * Permissions: `--allow-read` on the store.
 *
 * @module
 */

import { RootfsNotFoundError } from "../errors.ts";
import { formatPlatform } from "../image/platform.ts";
import type { ImageConfig } from "../image/types.ts";
import {
  type EntryMetadata,
  parseLegacyMeta,
  readLegacyMetaFile,
  readMetadata,
} from "./metadata.ts";
import { checkStoreRoot } from "./root_safety.ts";
import { readLastBackend } from "./last_backend.ts";
import { entryPath, storeRootPath } from "./store.ts";
import { uuidProblem } from "./uuid.ts";

/**
 * One entry as `list --json` and `inspect --json` show it. The field set is
 * stable (see docs/schemas/entry.json): a field that is unknown for an entry
 * is `null`, never absent.
 */
export interface EntryInfo {
  /** The entry's name under the store. */
  uuid: string;
  /** `pulled` (metadata from pull), `clone`, `legacy` (only
   * `.polythene-meta`) or `unknown` (a directory with no metadata). */
  kind: "pulled" | "clone" | "legacy" | "unknown";
  /** The IMAGE it was pulled from. */
  image: string | null;
  /** The normalised registry reference. */
  normalized: string | null;
  /** The manifest digest. */
  digest: string | null;
  /** `os/arch[/variant]`. */
  platform: string | null;
  /** `native` or `podman`. */
  puller: string | null;
  /** When it was published (ISO 8601). */
  created: string | null;
  /** The entry directory's modification time (ISO 8601): the age prune uses. */
  modified: string;
  /** Bytes of file content, as recorded at pull or clone. */
  size: number | null;
  /** For a clone: the UUID it was copied from. */
  parent: string | null;
  /** Made by `exec --ephemeral`. */
  ephemeral: boolean;
  /** The image config's runtime part (Env, WorkingDir, User, Entrypoint, Cmd). */
  config: ImageConfig["config"] | null;
  /** Layer blob digests, or null when not recorded. */
  blobs: string[] | null;
  /** The backend that last ran a command in it, or null. */
  lastBackend: string | null;
  /** `STORE/<uuid>`. */
  path: string;
}

/** Builds the info of one entry from what is on disk. Pure. */
export function entryInfo(
  uuid: string,
  path: string,
  modified: Date,
  meta: EntryMetadata | undefined,
  legacy: { image?: string; created?: string } | undefined,
): EntryInfo {
  const base: EntryInfo = {
    uuid,
    kind: "unknown",
    image: null,
    normalized: null,
    digest: null,
    platform: null,
    puller: null,
    created: null,
    modified: modified.toISOString(),
    size: null,
    parent: null,
    ephemeral: false,
    config: null,
    blobs: null,
    lastBackend: null,
    path,
  };
  if (meta !== undefined) {
    return {
      ...base,
      kind: meta.parent ? "clone" : "pulled",
      image: meta.reference || null,
      normalized: meta.normalized ?? null,
      digest: meta.digest ?? null,
      platform: meta.platform ? formatPlatform(meta.platform) : null,
      puller: meta.puller ?? null,
      created: meta.created ?? null,
      size: typeof meta.size === "number" ? meta.size : null,
      parent: meta.parent ?? null,
      ephemeral: meta.ephemeral === true,
      config: meta.config ?? null,
      blobs: meta.blobs ?? null,
    };
  }
  if (legacy !== undefined) {
    return {
      ...base,
      kind: "legacy",
      image: legacy.image ?? null,
      created: legacy.created ?? null,
    };
  }
  return base;
}

/**
 * Every entry of the store, oldest first (UUIDv7 names sort by creation).
 * A missing store has no entries.
 */
export async function listEntries(store: string): Promise<EntryInfo[]> {
  const root = storeRootPath(store);
  const names: string[] = [];
  try {
    for await (const dirent of Deno.readDir(root)) {
      if (!dirent.isDirectory) continue; // symlinks are never entries
      if (uuidProblem(dirent.name) !== undefined) continue;
      names.push(dirent.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  names.sort();
  const infos = await Promise.all(
    names.map((name) => readEntry(store, name).catch(() => undefined)),
  );
  return infos.filter((info): info is EntryInfo => info !== undefined);
}

/**
 * The store's entries for `list`: the store root is checked first (a
 * missing store has no entries).
 *
 * @throws {UnsafeStoreError} when the store root is unsafe.
 */
export async function listStore(store: string): Promise<EntryInfo[]> {
  return await checkStoreRoot(store) ? await listEntries(store) : [];
}

/**
 * One entry's info, after the store root check (`inspect`).
 *
 * @throws {UsageError} invalid UUID; {UnsafeStoreError}; {RootfsNotFoundError}
 * when `STORE/<uuid>` is not a real directory.
 */
export async function inspectEntry(
  store: string,
  uuid: string,
): Promise<EntryInfo> {
  const path = entryPath(store, uuid);
  if (!await checkStoreRoot(store)) throw new RootfsNotFoundError(uuid, path);
  const stat = await Deno.lstat(path).catch(() => undefined);
  if (stat !== undefined && (stat.isSymlink || !stat.isDirectory)) {
    throw new RootfsNotFoundError(
      uuid,
      path,
      stat.isSymlink ? "a symlink" : "not a directory",
    );
  }
  const info = await readEntry(store, uuid).catch(() => undefined);
  if (info === undefined) throw new RootfsNotFoundError(uuid, path);
  return info;
}

async function readEntry(store: string, uuid: string): Promise<EntryInfo> {
  const path = entryPath(store, uuid);
  const stat = await Deno.lstat(path);
  if (!stat.isDirectory) throw new Deno.errors.NotFound(path);
  const meta = await readMetadata(store, uuid);
  let legacy: { image?: string; created?: string } | undefined;
  if (meta === undefined) {
    try {
      legacy = parseLegacyMeta(
        await readLegacyMetaFile(path),
      );
    } catch {
      legacy = undefined;
    }
  }
  return {
    ...entryInfo(uuid, path, stat.mtime ?? new Date(0), meta, legacy),
    lastBackend: await readLastBackend(store, uuid),
  };
}
