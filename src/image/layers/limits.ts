/**
 * Resource caps for applying one layer, and their defaults.
 *
 * @module
 */

/**
 * Caps on what one layer may do. Each is checked before the work it bounds:
 * names and counts when the header is read, sizes before a byte beyond the
 * cap is written.
 */
export interface Limits {
  /** Tar entries (headers, not counting PAX or GNU long-name records). */
  maxEntries: number;
  /** Bytes of an entry's name or link target, after PAX/GNU expansion. */
  maxNameBytes: number;
  /** Bytes of one path component (the kernel's NAME_MAX is 255). */
  maxComponentBytes: number;
  /** Components of a path. */
  maxDepth: number;
  /**
   * Bytes of the uncompressed tar stream (headers, padding and bodies). It
   * bounds both what is written to disk and the work done for it, so a
   * gzip bomb stops here.
   */
  maxExpandedBytes: number;
  /** Size of one regular file, from its header (checked before writing). */
  maxFileBytes: number;
}

const GiB = 1024 ** 3;

/**
 * Defaults for one layer applied on its own. A pull replaces
 * `maxExpandedBytes` and `maxEntries` with what is left of the image's
 * budget (`src/image/image_limits.ts`: the image caps and the free space of
 * the store's filesystem, less what earlier layers used).
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxEntries: 500_000,
  maxNameBytes: 4096,
  maxComponentBytes: 255,
  maxDepth: 256,
  maxExpandedBytes: 32 * GiB,
  maxFileBytes: 16 * GiB,
});
