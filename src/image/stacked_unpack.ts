/**
 * Unpacking through the layer-stack cache (`src/store/layer_stacks.ts`):
 * a pull whose layer stack is cached copies it (`copy_tree.ts`) instead of
 * extracting; the second extraction of a stack builds it in the cache
 * first; the first only leaves a marker, so a pull of an image used once
 * costs no more than before.
 *
 * @module
 */

import type { Log } from "../log.ts";
import { copyTree } from "../store/copy_tree.ts";
import {
  type LayerStacks,
  stackKey,
  type StackRecord,
} from "../store/layer_stacks.ts";
import { removeTree } from "../store/staging.ts";
import type { SourceImage } from "./reader.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./image_limits.ts";
import { type ImageUse, unpackImage, type UnpackOptions } from "./unpack.ts";

/** What a stacked unpack produced. */
export interface StackedResult {
  /** Bytes of regular-file content. */
  fileBytes: number;
  /** Device nodes skipped because the pull was not root. */
  skippedDevices: number;
  /** The owner table as metadata stores it, when not empty. */
  ownership?: Record<string, unknown>;
  /** How the tree was made. */
  via: "extracted" | "copied" | "built";
  /** Tar bytes and entries of the layers. */
  used: ImageUse;
}

/** Options of {@linkcode unpackStacked}. */
export interface StackedOptions extends UnpackOptions {
  /** The store's stacks; undefined to extract without the cache. */
  stacks: LayerStacks | undefined;
  /** Names this pull's unfinished stack (the staging UUID). */
  owner: string;
  /** The host's PATH, where `cp` is looked up. */
  hostPath: string;
}

/**
 * Fills `dir` (an empty directory private to this process) with the
 * layers of `image`, through the stack cache when it can.
 *
 * @throws what {@linkcode unpackImage} throws.
 */
export async function unpackStacked(
  image: SourceImage,
  dir: string,
  options: StackedOptions,
): Promise<StackedResult> {
  const layers = image.layers.map((layer) => layer.digest);
  const key = options.stacks === undefined ||
      layers.some((d) => d === undefined)
    ? undefined
    : await stackKey(image.layers.map((l) => l.diffId), options.asRoot);
  const stacks = options.stacks;
  if (key === undefined || stacks === undefined) {
    return await extractInto(image, dir, options);
  }
  const copied = await copyStack(stacks, key, dir, options);
  if (copied !== undefined) return copied;
  if (!await stacks.seen(key)) {
    const result = await extractInto(image, dir, options);
    await stacks.markSeen(key, layers as string[]).catch(() => {});
    return result;
  }
  options.log(`building the layer stack ${key}`);
  const rootfs = await stacks.begin(key, options.owner);
  const built = await extractInto(image, rootfs, options);
  await stacks.commit(key, options.owner, {
    schema: 1,
    layers: layers as string[],
    fileBytes: built.fileBytes,
    tarBytes: built.used.bytes,
    entries: built.used.entries,
    skippedDevices: built.skippedDevices,
    ...(built.ownership ? { ownership: built.ownership } : {}),
  });
  // The layers were shown as they were extracted; the copy is not a step
  // of its own.
  const result = await copyStack(stacks, key, dir, {
    ...options,
    progress: undefined,
  });
  if (result !== undefined) return { ...result, via: "built" };
  return await extractInto(image, dir, options);
}

async function extractInto(
  image: SourceImage,
  dir: string,
  options: UnpackOptions,
): Promise<StackedResult> {
  const result = await unpackImage(image, dir, options);
  return {
    fileBytes: result.fileBytes,
    skippedDevices: result.skippedDevices,
    ...(result.ownership?.size ? { ownership: result.ownership.toJSON() } : {}),
    via: "extracted",
    used: result.used,
  };
}

/**
 * Copies stack `key` onto `dir`; undefined when it is not cached or the
 * copy failed (then `dir` is empty again).
 */
async function copyStack(
  stacks: LayerStacks,
  key: string,
  dir: string,
  options: StackedOptions & { log: Log },
): Promise<StackedResult | undefined> {
  const held = await stacks.open(key);
  if (held === undefined) return undefined;
  if (!withinCaps(held.record, options)) {
    // An extraction refuses it with the right error.
    held.release();
    return undefined;
  }
  try {
    // A copy has no layers to show: it is one item, so that a log still
    // says what the pull did.
    const progress = options.progress;
    progress?.start(
      `cached layers ${key.replace(/^\w+-/, "").slice(0, 12)}`,
      held.record.tarBytes,
    );
    await copyTree(held.rootfs, dir, { hostPath: options.hostPath });
    progress?.advance(held.record.tarBytes);
    progress?.written(held.record.entries, held.record.fileBytes);
    progress?.end();
    options.log(`copied the cached layer stack ${key}`);
    return fromRecord(held.record);
  } catch (error) {
    options.log(
      `cannot copy the cached layer stack ${key}, extracting instead: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    await removeTree(dir);
    await Deno.mkdir(dir, { mode: 0o755 });
    return undefined;
  } finally {
    held.release();
  }
}

/** Whether the stack fits the pull's image caps. Pure. */
export function withinCaps(
  record: Pick<StackRecord, "tarBytes" | "entries" | "layers">,
  options: { limits?: Partial<ImageLimits> },
): boolean {
  const given = Object.entries(options.limits ?? {}).filter(([, v]) =>
    v !== undefined
  );
  const limits: ImageLimits = {
    ...DEFAULT_IMAGE_LIMITS,
    ...Object.fromEntries(given),
  };
  return record.tarBytes <= limits.maxImageBytes &&
    record.entries <= limits.maxImageEntries &&
    record.layers.length <= limits.maxLayers;
}

function fromRecord(record: StackRecord): StackedResult {
  return {
    used: { bytes: record.tarBytes, entries: record.entries },
    fileBytes: record.fileBytes,
    skippedDevices: record.skippedDevices,
    ...(record.ownership ? { ownership: record.ownership } : {}),
    via: "copied",
  };
}
