/**
 * The layer pipeline of `pull`: decompress a layer blob, then apply its tar
 * stream onto the rootfs being staged, safely and within caps.
 *
 * @example
 * ```ts
 * import { decompressStream, extractLayer } from "./mod.ts";
 * const blob = await Deno.open("layer.tar.gz");
 * const stats = await extractLayer(
 *   decompressStream("application/vnd.oci.image.layer.v1.tar+gzip", blob.readable),
 *   "/var/tmp/polythene/.staging-x/rootfs",
 *   { asRoot: Deno.uid() === 0 },
 * );
 * ```
 *
 * @module
 */

export {
  type Compression,
  decompressStream,
  layerCompression,
  sniffCompression,
} from "./decompress.ts";
export {
  LAYER_EXIT_CODE,
  LayerApplyError,
  LayerError,
  LayerFormatError,
  LayerLimitError,
  LayerMediaTypeError,
  LayerPathError,
  type LimitName,
} from "./errors.ts";
export { extractLayer, type ExtractOptions } from "./extract.ts";
export { DEFAULT_LIMITS, type Limits } from "./limits.ts";
export { type OwnerRecord, OwnershipTable } from "./ownership.ts";
export { classifyEntryPath, type EntryPath, symlinkEscapes } from "./paths.ts";
export type { LayerStats } from "./stats.ts";
export { OPAQUE_MARKER, planWhiteout, type WhiteoutPlan } from "./whiteout.ts";
