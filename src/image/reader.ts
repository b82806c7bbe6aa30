/**
 * What every image source (registry, OCI layout, archives) resolves to: the
 * config and the layers, each layer openable as a verified stream. The pull
 * orchestrator consumes only this.
 *
 * @module
 */

import type { ImageConfig, Platform } from "./types.ts";

/** One layer, bottom first. */
export interface ImageLayer {
  /** The blob's media type (decides decompression). */
  mediaType: string;
  /** Digest of the blob as stored, when the source has one. */
  digest?: string;
  /** Size of the blob, when known. */
  size?: number;
  /**
   * Bytes opening it adds to the store besides the tree: the blob, when a
   * registry layer is not cached yet. For the space check before writing.
   */
  cacheBytes?: number;
  /** The uncompressed tar's digest, from the config's `rootfs.diff_ids`. */
  diffId: string;
  /**
   * Opens the blob. Where a digest is known the stream is verified while it
   * flows and errors at its end on a mismatch.
   */
  open(): Promise<ReadableStream<Uint8Array>>;
}

/** A resolved image, ready to unpack. */
export interface SourceImage {
  /** The manifest's digest, when the source has one. */
  digest?: string;
  /** The config blob's digest, when the source has one. */
  configDigest?: string;
  /** The platform of the selected image. */
  platform?: Platform;
  /** The parsed config. */
  config: ImageConfig;
  /** The layers, bottom first. */
  layers: ImageLayer[];
}

/** Largest manifest or config polythene reads. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
