/**
 * What applying one layer did.
 *
 * @module
 */

import type { OwnershipTable } from "./ownership.ts";

/** Counts for one layer, returned by `extractLayer`. */
export interface LayerStats {
  /** Tar entries read (whiteouts included). */
  entries: number;
  /** Regular files written. */
  files: number;
  /** Directory entries applied (new or merged). */
  directories: number;
  /** Symlinks made. */
  symlinks: number;
  /** Hardlinks made. */
  hardlinks: number;
  /** Device nodes made (root only). */
  devices: number;
  /** FIFOs made. */
  fifos: number;
  /** Whiteout entries applied (`.wh.NAME` and opaque markers). */
  whiteouts: number;
  /** Device nodes skipped because the extraction was not root. */
  skippedDevices: number;
  /** Bytes of regular-file content written. */
  fileBytes: number;
  /** Bytes of the uncompressed tar stream read. */
  tarBytes: number;
  /**
   * Unprivileged extraction: owner records of the whole image so far (the
   * table passed in, or a new one). Undefined as root.
   */
  ownership?: OwnershipTable;
}

/** All counts zero. */
export function newStats(): LayerStats {
  return {
    entries: 0,
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    devices: 0,
    fifos: 0,
    whiteouts: 0,
    skippedDevices: 0,
    fileBytes: 0,
    tarBytes: 0,
  };
}
