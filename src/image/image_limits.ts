/**
 * Caps on a whole image, on top of the per-entry caps of `layers/limits.ts`:
 * the uncompressed bytes of all its layers, their entries, the number of
 * layers, and the free space of the store's filesystem. Pure: the decisions
 * are made here, `unpack.ts` carries them out.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";

/** Caps for one image. */
export interface ImageLimits {
  /** Uncompressed tar bytes of all layers together. */
  maxImageBytes: number;
  /** Tar entries of all layers together. */
  maxImageEntries: number;
  /** Layers. */
  maxLayers: number;
}

const GiB = 1024 ** 3;

/** Defaults: far above real images, well below what fills a disk by surprise. */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxImageBytes: 64 * GiB,
  maxImageEntries: 1_000_000,
  // Docker's overlay2 cannot stack more than 128 lower layers either.
  maxLayers: 128,
});

/** The pull option that raises each cap, for messages. */
export const LIMIT_OPTIONS: Readonly<Record<keyof ImageLimits, string>> = {
  maxImageBytes: "--max-image-size",
  maxImageEntries: "--max-image-entries",
  maxLayers: "--max-layers",
};

/** An image is over a cap, or cannot fit in the store (exit 1). */
export class ImageLimitError extends PolytheneError {
  /** Makes the error; `option` is the pull option that raises the cap. */
  constructor(message: string, option?: string) {
    super(message, {
      exitCode: 1,
      hint: option
        ? `the image may be hostile; raise ${option} only if you trust it`
        : "free space in the store's filesystem, or use another --store",
    });
    this.name = "ImageLimitError";
  }
}

/** What a layer of the image tells before it is read. */
export interface LayerEstimate {
  /** The blob's size, when known (compressed, or the tar itself). */
  size?: number;
  /** Bytes the pull adds to the store besides the tree (a blob to cache). */
  cacheBytes?: number;
}

/** The image's budget, decided before anything is written. */
export interface ImagePlan {
  /** Uncompressed bytes the layers may use together. */
  maxBytes: number;
  /** Whether `maxBytes` is the free space (true) or the image cap. */
  boundBySpace: boolean;
  /** Entries the layers may hold together. */
  maxEntries: number;
}

/**
 * Checks an image against its caps before anything is written, and returns
 * the budget that extraction then enforces. A layer's blob size is taken as
 * the least it expands to (compression shrinks a tar, bar a few bytes of
 * framing), so the check up front refuses only what surely does not fit;
 * the running total during extraction catches the rest. Pure.
 *
 * @param layers The image's layers, bottom first.
 * @param limits The caps.
 * @param freeBytes Free bytes for this user on the store's filesystem, or
 * undefined when unknown (no space check then).
 * @throws {ImageLimitError} too many layers, or the blobs alone are over
 * the byte cap or the free space.
 */
export function planImage(
  layers: readonly LayerEstimate[],
  limits: ImageLimits,
  freeBytes: number | undefined,
): ImagePlan {
  if (layers.length > limits.maxLayers) {
    throw new ImageLimitError(
      `the image has ${layers.length} layers, more than ${LIMIT_OPTIONS.maxLayers} (${limits.maxLayers})`,
      LIMIT_OPTIONS.maxLayers,
    );
  }
  const least = layers.reduce((n, l) => n + (l.size ?? 0), 0);
  const cache = layers.reduce((n, l) => n + (l.cacheBytes ?? 0), 0);
  if (least > limits.maxImageBytes) {
    throw new ImageLimitError(
      `the image's layers are ${least} bytes before expanding, more than ${LIMIT_OPTIONS.maxImageBytes} (${limits.maxImageBytes})`,
      LIMIT_OPTIONS.maxImageBytes,
    );
  }
  const space = freeBytes === undefined ? Infinity : freeBytes - cache;
  if (least > space) {
    throw new ImageLimitError(
      `the image needs at least ${least + cache} bytes ` +
        `(its layers${cache ? ", plus the blobs to cache" : ""}), and the ` +
        `store's filesystem has ${freeBytes} free`,
    );
  }
  return {
    maxBytes: Math.min(limits.maxImageBytes, space),
    boundBySpace: space < limits.maxImageBytes,
    maxEntries: limits.maxImageEntries,
  };
}

/**
 * The error for extraction passing the plan's byte budget, after `used`
 * bytes. Pure.
 */
export function bytesOverError(
  plan: ImagePlan,
  limits: ImageLimits,
): ImageLimitError {
  return plan.boundBySpace
    ? new ImageLimitError(
      `the image does not fit in the free space of the store's filesystem ` +
        `(${plan.maxBytes} bytes)`,
    )
    : new ImageLimitError(
      `the image expands to more than ${LIMIT_OPTIONS.maxImageBytes} (${limits.maxImageBytes} bytes)`,
      LIMIT_OPTIONS.maxImageBytes,
    );
}

/** The error for extraction passing the plan's entry budget. Pure. */
export function entriesOverError(limits: ImageLimits): ImageLimitError {
  return new ImageLimitError(
    `the image has more than ${LIMIT_OPTIONS.maxImageEntries} (${limits.maxImageEntries}) entries`,
    LIMIT_OPTIONS.maxImageEntries,
  );
}

/**
 * `SIZE` for `--max-image-size`: bytes, or a number with a binary suffix
 * `K`, `M`, `G` or `T` (`64G` is 64 GiB). Pure.
 *
 * @returns The bytes, or undefined when `text` is not a size.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!match) return undefined;
  const power = " KMGT".indexOf((match[2] || " ").toUpperCase());
  const bytes = Number(match[1]) * 1024 ** power;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}
