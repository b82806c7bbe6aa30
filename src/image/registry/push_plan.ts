/**
 * The decisions of a push, as pure functions: which blobs and manifests a
 * manifest or index needs and in which order, the token scopes, whether to
 * try a cross-repository mount, how a blob is cut into chunks, and what an
 * upload's `Range` header says. The I/O lives in `push_upload.ts` and
 * `push.ts`.
 *
 * @module
 */

import type { Descriptor, ImageReference } from "../types.ts";

/** The OCI annotation naming the image a manifest was built on. */
export const BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name";

/** One manifest's own needs: its config and layers, as descriptors. */
export interface ManifestNeeds {
  /** The config first, then the layers in order. */
  blobs: Descriptor[];
}

/** One index's needs: its child manifests' descriptors. */
export interface IndexNeeds {
  /** The child manifests, in order. */
  manifests: Descriptor[];
}

/**
 * What a manifest or index document refers to: for an image manifest, its
 * config and layers; for an index, its child manifests. Pure.
 *
 * @throws {TypeError} naming the field when the document is malformed
 */
export function documentNeeds(
  kind: "manifest" | "index",
  document: unknown,
): ManifestNeeds | IndexNeeds {
  if (typeof document !== "object" || document === null) {
    throw new TypeError("the document is not a JSON object");
  }
  const record = document as Record<string, unknown>;
  if (kind === "index") {
    return { manifests: descriptors(record.manifests, "manifests") };
  }
  const config = descriptors([record.config], "config");
  return { blobs: [...config, ...descriptors(record.layers, "layers")] };
}

function descriptors(value: unknown, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw new TypeError(`"${field}" is not a list`);
  return value.map((item, i) => {
    const d = item as Partial<Descriptor> | null;
    if (
      typeof d !== "object" || d === null || typeof d.digest !== "string" ||
      typeof d.mediaType !== "string" || typeof d.size !== "number" ||
      !Number.isSafeInteger(d.size) || d.size < 0
    ) {
      throw new TypeError(`"${field}" item ${i} is not a valid descriptor`);
    }
    return d as Descriptor;
  });
}

/** Drops repeated digests, keeping the first of each. Pure. */
export function uniqueByDigest(items: readonly Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return items.filter((d) => {
    if (seen.has(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
}

/**
 * The token scopes a push to `dest` asks for: `pull,push` on the
 * destination, and `pull` on the repository blobs are mounted from. Pure.
 */
export function pushScopes(dest: string, mountFrom?: string): string[] {
  const scopes = [`repository:${dest}:pull,push`];
  if (mountFrom !== undefined && mountFrom !== dest) {
    scopes.push(`repository:${mountFrom}:pull`);
  }
  return scopes;
}

/**
 * The repository to mount blobs from: the base's repository when it lives
 * on the same registry as `dest` under another name, else undefined. Pure.
 */
export function mountSource(
  dest: ImageReference,
  base: ImageReference | undefined,
): string | undefined {
  if (base === undefined || base.registry !== dest.registry) return undefined;
  return base.repository === dest.repository ? undefined : base.repository;
}

/** A byte range of a blob, `end` exclusive. */
export interface Chunk {
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
}

/**
 * Cuts `[from, size)` into chunks of at most `chunkSize` bytes. Pure.
 *
 * @throws {RangeError} for a chunk size below 1
 */
export function chunksOf(
  size: number,
  from: number,
  chunkSize: number,
): Chunk[] {
  if (!(chunkSize >= 1)) {
    throw new RangeError(`Invalid chunk size ${chunkSize}`);
  }
  const chunks: Chunk[] = [];
  for (let start = from; start < size; start += chunkSize) {
    chunks.push({ start, end: Math.min(size, start + chunkSize) });
  }
  return chunks;
}

/**
 * How many bytes an upload holds, from its `Range` header (`0-N`, or
 * `bytes=0-N` as some registries write it): N + 1. `0-0` on an empty
 * upload is ambiguous; registries that hold nothing send no header or
 * `0--1`, both read as 0. Undefined when unreadable. Pure.
 */
export function uploadedBytes(range: string | null): number | undefined {
  if (range === null || range.trim() === "") return 0;
  const match = /^(?:bytes=)?0-(-?\d+)$/.exec(range.trim());
  if (!match) return undefined;
  const last = Number(match[1]);
  return last < 0 ? 0 : last + 1;
}

/** The `Content-Range` of a chunk, as the distribution spec writes it. */
export function contentRange(chunk: Chunk): string {
  return `${chunk.start}-${chunk.end - 1}`;
}

/**
 * The URL of an upload's next request from its `Location` (relative to
 * `base`), with `digest` set for the closing PUT. Pure.
 *
 * @throws {TypeError} when the location is missing or not a URL
 */
export function uploadUrl(
  location: string | null,
  base: URL,
  digest?: string,
): URL {
  if (location === null || location === "") {
    throw new TypeError("the registry gave no upload Location");
  }
  const url = new URL(location, base);
  if (digest !== undefined) url.searchParams.set("digest", digest);
  return url;
}
