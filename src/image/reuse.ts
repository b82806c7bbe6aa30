/**
 * Which stored entry stands for an image: the newest entry pulled from the
 * same reference (and, when known, at the same digest and for the wanted
 * platform). `run` resolves its IMAGE with it, and `pull --reuse` returns
 * such an entry instead of unpacking a second copy. Clones, `--ephemeral`
 * copies and legacy entries never match: only what `pull` published does.
 *
 * @module
 */

import type { EntryInfo } from "../store/entries.ts";
import { listStore } from "../store/entries.ts";
import { formatReference } from "./reference.ts";
import { parsePlatform, platformMatches } from "./platform.ts";
import type { ImageSource } from "./source.ts";
import type { Platform } from "./types.ts";

/** What an entry must have been pulled from to stand for an image. */
export interface EntryWanted {
  /** {@linkcode referenceKey} of the IMAGE. */
  key: string;
  /** The manifest digest, when known; otherwise any digest matches. */
  digest?: string;
  /** The platform wanted; an entry that recorded another one does not match. */
  platform?: Platform;
}

/**
 * The key entries are matched on: a registry reference normalised as docker
 * does (`busybox` and `docker.io/library/busybox:latest` are one key), any
 * other IMAGE form (`oci:DIR:TAG`, archives) as given. Pure.
 */
export function referenceKey(source: ImageSource, image: string): string {
  return source.kind === "registry" ? formatReference(source.reference) : image;
}

/** The key an entry was pulled under (see {@linkcode referenceKey}). Pure. */
export function entryKey(entry: EntryInfo): string | undefined {
  return entry.normalized ?? entry.image ?? undefined;
}

/**
 * The newest entry matching `wanted`, or undefined. Newest is the latest
 * `created` time, then the greatest UUID (UUIDv7s sort by creation). Pure.
 */
export function newestMatch(
  entries: readonly EntryInfo[],
  wanted: EntryWanted,
): EntryInfo | undefined {
  let best: EntryInfo | undefined;
  for (const entry of entries) {
    if (!matches(entry, wanted)) continue;
    if (best === undefined || newer(entry, best)) best = entry;
  }
  return best;
}

function matches(entry: EntryInfo, wanted: EntryWanted): boolean {
  if (entry.kind !== "pulled" || entry.ephemeral) return false;
  if (entryKey(entry) !== wanted.key) return false;
  if (wanted.digest !== undefined && entry.digest !== wanted.digest) {
    return false;
  }
  if (wanted.platform !== undefined && entry.platform !== null) {
    let have: Platform;
    try {
      have = parsePlatform(entry.platform);
    } catch {
      return false;
    }
    if (!platformMatches(have, wanted.platform)) return false;
  }
  return true;
}

function newer(a: EntryInfo, b: EntryInfo): boolean {
  const at = a.created ?? "";
  const bt = b.created ?? "";
  return at === bt ? a.uuid > b.uuid : at > bt;
}

/**
 * {@linkcode newestMatch} over the entries of `store` (read without
 * locking; a missing store has none).
 *
 * @throws {UnsafeStoreError} when the store root is unsafe.
 */
export async function findStoredEntry(
  store: string,
  wanted: EntryWanted,
): Promise<EntryInfo | undefined> {
  return newestMatch(await listStore(store), wanted);
}

/**
 * For `pull --reuse`: the UUID of the newest stored entry pulled from
 * `request.image` at `digest` for `platform`, or undefined (also when the
 * digest is unknown).
 */
export async function reusableEntry(
  request: { store: string; image: string },
  source: ImageSource,
  digest: string | undefined,
  platform: Platform,
): Promise<string | undefined> {
  if (digest === undefined) return undefined;
  const found = await findStoredEntry(request.store, {
    key: referenceKey(source, request.image),
    digest,
    platform,
  });
  return found?.uuid;
}
