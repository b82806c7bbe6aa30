/**
 * The record of a pulled image that lets `commit` build on it.
 *
 * @module
 */

import type { EntryMetadata } from "../store/metadata.ts";
import type { SourceImage } from "./reader.ts";

/**
 * What commit needs of a pulled image, as the entry's metadata records it:
 * the config's digest and the layer blobs, bottom first; undefined when a
 * digest or size is unknown (such an image cannot be a commit's base).
 * Pure.
 */
export function baseRecord(
  image: SourceImage | undefined,
): EntryMetadata["image"] {
  if (image?.configDigest === undefined) return undefined;
  const layers = [];
  for (const layer of image.layers) {
    if (layer.digest === undefined || layer.size === undefined) {
      return undefined;
    }
    layers.push({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
    });
  }
  return { config: image.configDigest, layers };
}
