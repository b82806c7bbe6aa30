/**
 * Unpacks a {@linkcode SourceImage} into a directory: each layer is opened,
 * decompressed, checked against its diff_id while it streams, and applied.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import type { Log } from "../log.ts";
import {
  bytesOverError,
  DEFAULT_IMAGE_LIMITS,
  entriesOverError,
  ImageLimitError,
  type ImageLimits,
  type ImagePlan,
  planImage,
} from "./image_limits.ts";
import {
  decompressStream,
  extractLayer,
  LayerError,
  LayerLimitError,
  type Limits,
  type OwnershipTable,
} from "./layers/mod.ts";
import type { SourceImage } from "./reader.ts";
import { hasherFor } from "./registry/verify.ts";
import {
  countingStream,
  type ProgressReporter,
  SILENT_PROGRESS,
} from "../progress.ts";

/** What unpacking produced. */
export interface UnpackResult {
  /** Bytes of regular-file content written, over all layers. */
  fileBytes: number;
  /** Device nodes skipped because the pull was not root. */
  skippedDevices: number;
  /** Owners that could not be applied (unprivileged), when any. */
  ownership?: OwnershipTable;
  /** Uncompressed tar bytes and entries read, over all layers. */
  used: ImageUse;
}

/** Options of {@linkcode unpackImage}. */
export interface UnpackOptions {
  /** Whether to apply owners, setuid bits and device nodes. */
  asRoot: boolean;
  /** The IMAGE argument, for messages. */
  label: string;
  /** Verbose log. */
  log: Log;
  /** Aborts the unpack between and inside layers. */
  signal?: AbortSignal;
  /** Called as layers start: (index, count). */
  onLayer?: (index: number, count: number) => void;
  /** Caps for the whole image; missing ones take the defaults. */
  limits?: Partial<ImageLimits>;
  /** Free bytes of the store's filesystem, when known. */
  freeBytes?: number;
  /** Told each layer's start, bytes read, entries written and end. */
  progress?: ProgressReporter;
}

/** What is used of an {@linkcode ImagePlan} so far. */
export interface ImageUse {
  /** Uncompressed tar bytes read. */
  bytes: number;
  /** Tar entries read. */
  entries: number;
}

/** The caps for the next layer: what is left of the image's budget. Pure. */
export function layerLimits(plan: ImagePlan, used: ImageUse): Partial<Limits> {
  return {
    maxExpandedBytes: Math.max(0, plan.maxBytes - used.bytes),
    maxEntries: Math.max(0, plan.maxEntries - used.entries),
  };
}

/**
 * A layer's byte or entry cap, set by {@linkcode layerLimits}, as the
 * image-wide error it stands for; any other error unchanged. Pure.
 */
export function imageLimitError(
  error: unknown,
  plan: ImagePlan,
  limits: ImageLimits,
): unknown {
  if (!(error instanceof LayerLimitError)) return error;
  if (error.limit === "maxExpandedBytes") return bytesOverError(plan, limits);
  if (error.limit === "maxEntries") return entriesOverError(limits);
  return error;
}

/** `error` with `Cannot pull "LABEL": ` (and the layer) in front. */
export function pullError(
  label: string,
  error: PolytheneError,
  layer?: number,
): PolytheneError {
  const where = layer === undefined ? "" : `layer ${layer + 1}: `;
  return new PolytheneError(
    `Cannot pull "${label}": ${where}${error.message}`,
    { exitCode: error.exitCode, hint: error.hint, cause: error },
  );
}

/** Applies every layer of `image` onto `dir`, bottom first. */
export async function unpackImage(
  image: SourceImage,
  dir: string,
  options: UnpackOptions,
): Promise<UnpackResult> {
  let fileBytes = 0;
  let skippedDevices = 0;
  let ownership: OwnershipTable | undefined;
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  let plan: ImagePlan;
  try {
    plan = planImage(image.layers, limits, options.freeBytes);
  } catch (error) {
    if (!(error instanceof PolytheneError)) throw error;
    throw pullError(options.label, error);
  }
  const used: ImageUse = { bytes: 0, entries: 0 };
  for (const [i, layer] of image.layers.entries()) {
    options.signal?.throwIfAborted();
    options.onLayer?.(i, image.layers.length);
    options.log(`layer ${i + 1}/${image.layers.length}: ${layer.mediaType}`);
    const progress = options.progress ?? SILENT_PROGRESS;
    progress.start(layerLabel(i, image.layers.length, layer), layer.size);
    const blob = await layer.open();
    const check = diffIdCheck(layer.diffId, options.label, i);
    let stats: Awaited<ReturnType<typeof extractLayer>>;
    try {
      const counted = blob.pipeThrough(countingStream(progress));
      const tar = decompressStream(layer.mediaType, counted)
        .pipeThrough(check.stream)
        .pipeThrough(abortable(options.signal));
      stats = await extractLayer(tar, dir, {
        asRoot: options.asRoot,
        log: options.log,
        ownership,
        limits: layerLimits(plan, used),
        onEntry: (entries, bytes) => progress.written(entries, bytes),
      });
    } catch (caught) {
      // Layer errors name the entry, not the image: add it.
      const error = imageLimitError(caught, plan, limits);
      if (!(error instanceof LayerError || error instanceof ImageLimitError)) {
        throw error;
      }
      await blob.cancel().catch(() => {});
      throw pullError(options.label, error, i);
    }
    if (!check.verified()) {
      throw new PolytheneError(
        `Cannot pull "${options.label}": layer ${
          i + 1
        } was not read to its end, so its diff_id is unchecked`,
        { exitCode: 1 },
      );
    }
    progress.end();
    used.bytes += stats.tarBytes;
    used.entries += stats.entries;
    fileBytes += stats.fileBytes;
    skippedDevices += stats.skippedDevices;
    ownership = stats.ownership;
  }
  return { fileBytes, skippedDevices, ownership, used };
}

/** `layer 2/3 sha256:0123456789ab`: how progress names a layer. Pure. */
export function layerLabel(
  index: number,
  count: number,
  layer: { digest?: string },
): string {
  const digest = layer.digest === undefined
    ? ""
    : ` ${layer.digest.slice(0, layer.digest.indexOf(":") + 13)}`;
  return `layer ${index + 1}/${count}${digest}`;
}

/**
 * A pass-through that errors at the end of the stream unless its digest is
 * `diffId`; `verified()` tells whether that end was reached and matched.
 */
export function diffIdCheck(
  diffId: string,
  label: string,
  index: number,
): { stream: TransformStream<Uint8Array, Uint8Array>; verified(): boolean } {
  let hash: ReturnType<typeof hasherFor>;
  try {
    hash = hasherFor(diffId);
  } catch (error) {
    throw new PolytheneError(
      `Cannot pull "${label}": layer ${
        index + 1
      } has an invalid diff_id "${diffId}"`,
      { exitCode: 1, cause: error },
    );
  }
  const algorithm = diffId.slice(0, diffId.indexOf(":"));
  let verified = false;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== diffId) {
        throw new PolytheneError(
          `Cannot pull "${label}": layer ${
            index + 1
          } does not match its diff_id (the content is ${actual})`,
          { exitCode: 1 },
        );
      }
      verified = true;
    },
  });
  return { stream, verified: () => verified };
}

function abortable(
  signal: AbortSignal | undefined,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      signal?.throwIfAborted();
      controller.enqueue(chunk);
    },
  });
}
