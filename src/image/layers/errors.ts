/**
 * Typed errors of the layer pipeline. Each one names the layer entry (or the
 * media type) and the cause in one line; all map to exit code 1.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import { escapeControl } from "../../escape.ts";

/**
 * Exit code of every layer error: the pull failed. `src/errors.ts` has no
 * generic failure code yet; this is the value such a constant would hold.
 */
export const LAYER_EXIT_CODE = 1;

/** Base class: a layer could not be decompressed or applied. */
export class LayerError extends PolytheneError {
  /**
   * Makes the error. Messages carry names from the image, so control
   * characters in them are escaped here, once for every subclass.
   */
  constructor(message: string, options: { hint?: string; cause?: unknown }) {
    super(escapeControl(message), { exitCode: LAYER_EXIT_CODE, ...options });
    this.name = "LayerError";
  }
}

/** The layer's media type is unknown, or names an encrypted layer. */
export class LayerMediaTypeError extends LayerError {
  /** The media type as given. */
  readonly mediaType: string;

  constructor(mediaType: string, encrypted: boolean) {
    super(
      encrypted
        ? `Cannot extract an encrypted layer: "${mediaType}"`
        : `Cannot extract a layer of unknown media type: "${mediaType}"`,
      {
        hint: encrypted
          ? "polythene does not decrypt layers; pull a decrypted image"
          : undefined,
      },
    );
    this.name = "LayerMediaTypeError";
    this.mediaType = mediaType;
  }
}

/** The compressed stream or the tar archive inside it is malformed. */
export class LayerFormatError extends LayerError {
  constructor(detail: string, cause?: unknown) {
    super(`Malformed layer: ${detail}`, { cause });
    this.name = "LayerFormatError";
  }
}

/**
 * An entry would reach outside the rootfs, or is otherwise unsafe: `..` in a
 * name, a root entry that is not a directory, an invalid whiteout, a
 * hardlink to a directory or to a symlink that escapes.
 */
export class LayerPathError extends LayerError {
  /** The entry's name as stored in the archive. */
  readonly entry: string;

  constructor(entry: string, reason: string) {
    super(`Refused layer entry "${entry}": ${reason}`, {});
    this.name = "LayerPathError";
    this.entry = entry;
  }
}

/** Which cap of {@linkcode Limits} was exceeded. */
export type LimitName =
  | "maxEntries"
  | "maxNameBytes"
  | "maxComponentBytes"
  | "maxDepth"
  | "maxExpandedBytes"
  | "maxFileBytes";

/** A resource cap was exceeded; nothing was written beyond it. */
export class LayerLimitError extends LayerError {
  /** The cap that was hit. */
  readonly limit: LimitName;
  /** Its value. */
  readonly max: number;

  constructor(limit: LimitName, max: number, detail: string) {
    super(`Layer exceeds ${limit} (${max}): ${detail}`, {
      hint: "the image may be hostile; raise the limit only if you trust it",
    });
    this.name = "LayerLimitError";
    this.limit = limit;
    this.max = max;
  }
}

/** A filesystem operation failed while applying an entry. */
export class LayerApplyError extends LayerError {
  /** The entry's name as stored in the archive. */
  readonly entry: string;

  constructor(entry: string, detail: string, cause?: unknown) {
    super(`Cannot apply layer entry "${entry}": ${detail}`, { cause });
    this.name = "LayerApplyError";
    this.entry = entry;
  }
}
