/**
 * Entry metadata: `STORE/.polythene/entries/<uuid>.json`, written before the
 * entry is published, and the Python original's `STORE/<uuid>/.polythene-meta`
 * (`image=...` and `created=...` lines) for compatibility.
 *
 * @module
 */

import type { ImageConfig, Platform } from "../image/types.ts";
import { removeCreated } from "./created_paths.ts";
import { removeLastBackend } from "./last_backend.ts";
import { writeFileNoFollow } from "./safe_write.ts";
import { stateDir } from "./store.ts";

/** What polythene records about an entry. */
export interface EntryMetadata {
  /** Format version of this record. */
  schema: 1;
  /** The entry's UUID. */
  uuid: string;
  /** The IMAGE argument as given. */
  reference: string;
  /** The normalised reference, when it was a registry reference. */
  normalized?: string;
  /** Digest of the manifest that was unpacked (`sha256:...`). */
  digest?: string;
  /** Platform of the unpacked image. */
  platform?: Platform;
  /** `native` or `podman`; absent for clones of legacy entries. */
  puller?: "native" | "podman";
  /** When the entry was published (ISO 8601, UTC). */
  created: string;
  /** Bytes of the unpacked tree (file sizes, as `du --apparent-size`). */
  size: number;
  /** The runtime part of the image config. */
  config?: ImageConfig["config"];
  /** Owners and modes that could not be applied (non-root pulls). */
  ownership?: Record<string, { uid: number; gid: number; mode: number }>;
  /**
   * Digests of the layer blobs this entry was unpacked from (the blob cache
   * keeps them while an entry refers to them). Written by pull since the
   * store commands landed; an entry without it is treated as referring to
   * every cached blob.
   */
  blobs?: string[];
  /**
   * The pulled image as `commit` takes it for a base: its config's digest
   * and its layer blobs, bottom first (in the blob cache after a registry
   * pull). Absent for entries pulled before commit existed.
   */
  image?: {
    config: string;
    layers: { mediaType: string; digest: string; size: number }[];
  };
  /** For a clone: the UUID it was copied from. */
  parent?: string;
  /** A clone made by `exec --ephemeral`, removed when its command ends. */
  ephemeral?: boolean;
}

/** `STORE/.polythene/entries/<uuid>.json`. */
export function metadataPath(store: string, uuid: string): string {
  return `${stateDir(store)}/entries/${uuid}.json`;
}

/**
 * Reads `ENTRY/.polythene-meta`, the Python original's metadata, only when it
 * is a small regular file: a symlink in an image must not make polythene
 * read a host file.
 *
 * @throws when it is missing, not a regular file, or over 64 KiB.
 */
export async function readLegacyMetaFile(entry: string): Promise<string> {
  const path = `${entry}/${LEGACY_META_NAME}`;
  // lstat first: opening a symlink to a FIFO would block.
  const named = await Deno.lstat(path);
  if (!named.isFile) throw new Error(`${path} is not a regular file`);
  const file = await Deno.open(path, { read: true });
  try {
    const held = await file.stat();
    if (
      named.ino !== held.ino || named.dev !== held.dev || held.size > 65536
    ) {
      throw new Error(`${path} changed or is too large`);
    }
    return new TextDecoder().decode(await new Response(file.readable).bytes());
  } catch (error) {
    file.close();
    throw error;
  }
}

/** The original's `.polythene-meta` text. Pure. */
export function legacyMeta(image: string, created: string): string {
  return `image=${image}\ncreated=${created.replace(/\.\d+Z$/, "Z")}\n`;
}

/**
 * Writes the metadata atomically and without following a link (see
 * `safe_write.ts`).
 *
 * @throws {UnsafeTargetError} when something other than a file is in the way.
 */
export async function writeMetadata(
  store: string,
  meta: EntryMetadata,
): Promise<void> {
  const dir = `${stateDir(store)}/entries`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileNoFollow(
    dir,
    `${meta.uuid}.json`,
    JSON.stringify(meta, null, 2) + "\n",
  );
}

/** The name of the Python original's metadata file inside an entry. */
export const LEGACY_META_NAME = ".polythene-meta";

/**
 * Writes the Python original's `.polythene-meta` into a staging rootfs,
 * replacing whatever file or symlink the image put there without following
 * it.
 *
 * @throws {UnsafeTargetError} when the image has a directory, FIFO, device
 * or socket at that name.
 */
export async function writeLegacyMeta(
  rootfs: string,
  image: string,
  created: string,
): Promise<void> {
  await writeFileNoFollow(rootfs, LEGACY_META_NAME, legacyMeta(image, created));
}

/** Reads an entry's metadata, or undefined when it has none. */
export async function readMetadata(
  store: string,
  uuid: string,
): Promise<EntryMetadata | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(metadataPath(store, uuid)));
  } catch {
    return undefined;
  }
}

/** {@linkcode readMetadata}, synchronously, for `exec`'s hot path. */
export function readMetadataSync(
  store: string,
  uuid: string,
): EntryMetadata | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(metadataPath(store, uuid)));
  } catch {
    return undefined;
  }
}

/** Removes an entry's metadata file and backend record; idempotent. */
export async function removeMetadata(
  store: string,
  uuid: string,
): Promise<void> {
  await Deno.remove(metadataPath(store, uuid)).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await removeLastBackend(store, uuid);
  await removeCreated(store, uuid);
}

/**
 * Parses the Python original's `.polythene-meta` (`key=value` lines). Pure.
 *
 * @returns `image` and `created` when present.
 */
export function parseLegacyMeta(
  text: string,
): { image?: string; created?: string } {
  const result: { image?: string; created?: string } = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (key === "image") result.image = value;
    if (key === "created") result.created = value;
  }
  return result;
}
