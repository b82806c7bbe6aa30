/**
 * `pull`: turn IMAGE into a root filesystem at `STORE/<uuid>`.
 *
 * The image is unpacked into a locked staging directory inside the store,
 * every digest is verified on the way, the metadata is written, and only
 * then is the directory renamed into place. On any failure, SIGINT, SIGTERM
 * or timeout the staging directory is removed; after SIGKILL only the
 * staging directory is left, and the next pull sweeps it.
 *
 * Permissions: `--allow-net` (registries), `--allow-read`, `--allow-write`,
 * `--allow-run=podman,mknod` and credential helpers, `--allow-env`.
 *
 * @module
 */

import { v7 as uuidv7 } from "../npm/uuid.ts";
import { PolytheneError } from "../errors.ts";
import { escapeControl } from "../escape.ts";
import type { Log } from "../log.ts";
import { which } from "../process/which.ts";
import { removeTemporaries } from "../store/blob_cache.ts";
import {
  type EntryMetadata,
  LEGACY_META_NAME,
  writeLegacyMeta,
  writeMetadata,
} from "../store/metadata.ts";
import { UnsafeTargetError } from "../store/safe_write.ts";
import { createStaging, type Staging, sweepStaging } from "../store/staging.ts";
import { checkStoreRoot } from "../store/root_safety.ts";
import { formatReference } from "./reference.ts";
import {
  formatPlatform,
  hostPlatform,
  parsePlatform,
  recordedPlatformProblem,
} from "./platform.ts";
import {
  podmanEnv,
  podmanExport,
  type PodmanImageFacts,
  podmanTlsVerify,
} from "./podman.ts";
import type { SourceImage } from "./reader.ts";
import { baseRecord } from "./base_record.ts";
import { nativePull } from "./native_pull.ts";
import { type ImageSource, parseImageSource } from "./source.ts";
import type { ImageReference, Platform } from "./types.ts";
import { extractLayer } from "./layers/mod.ts";
import {
  DEFAULT_IMAGE_LIMITS,
  ImageLimitError,
  type ImageLimits,
  planImage,
} from "./image_limits.ts";
import { imageLimitError, layerLimits, pullError } from "./unpack.ts";
import { LayerStacks } from "../store/layer_stacks.ts";
import { freeBytes } from "../store/free_space.ts";
import { appendCreated } from "../store/created_paths.ts";
import { Interruption } from "./interruption.ts";
import { reusableEntry } from "./reuse.ts";
import {
  countingStream,
  type ProgressReporter,
  SILENT_PROGRESS,
} from "../progress.ts";

/** What to pull, and how. */
export interface PullRequest {
  /** The store root. */
  store: string;
  /** The IMAGE argument. */
  image: string;
  /** `os/arch[/variant]`; default this host. */
  platform?: string;
  /**
   * `native` (default), `podman`, or `auto`: native, then podman when the
   * native client reaches no registry location (see `native_pull.ts`).
   */
  puller: "native" | "podman" | "auto";
  /** false allows plain http and unverified TLS. */
  tlsVerify: boolean;
  /** Give up after this many seconds (exit 124). */
  timeoutSeconds?: number;
  /** The host environment (credentials, podman). */
  hostEnv: (name: string) => string | undefined;
  /** Verbose log. */
  log: Log;
  /** One-line warnings for the user (printed even without --verbose). */
  warn: (message: string) => void;
  /** Progress: called as each layer starts. */
  onLayer?: (index: number, count: number) => void;
  /** Progress: each layer's bytes and entries (see `src/progress.ts`). */
  progress?: ProgressReporter;
  /** Caps for the whole image; missing ones take the defaults. */
  limits?: Partial<ImageLimits>;
  /**
   * Return the newest entry pulled from the same reference at the same
   * digest (and platform), when there is one, instead of a new entry.
   */
  reuse?: boolean;
  /** Told the UUID of the entry reused instead of a new one. */
  onReuse?: (uuid: string) => void;
}

/**
 * Pulls `request.image` into a new entry.
 *
 * @returns The new entry's UUID (a UUIDv7).
 * @throws {UsageError} for a malformed IMAGE or platform (2);
 * {PolytheneError} naming the image and the cause (1), 124 on timeout,
 * 130 on SIGINT, 143 on SIGTERM.
 */
export async function pullImage(request: PullRequest): Promise<string> {
  const source = parseImageSource(request.image);
  const platform = request.platform
    ? parsePlatform(request.platform)
    : hostPlatform();
  await checkStoreRoot(request.store, { create: true }).catch((error) => {
    throw new PolytheneError(
      `Cannot pull "${request.image}": ${
        error instanceof Error ? error.message : String(error)
      }`,
      {
        exitCode: error instanceof PolytheneError ? error.exitCode : 1,
        hint: error instanceof PolytheneError ? error.hint : undefined,
        cause: error,
      },
    );
  });
  const swept = await sweepStaging(request.store).catch(() => []);
  if (swept.length) request.log(`swept ${swept.length} interrupted pull(s)`);
  await removeTemporaries(request.store, swept);
  await new LayerStacks(request.store).removeTemporaries(swept);
  const uuid = uuidv7();
  const staging = await createStaging(request.store, uuid, request.log).catch(
    (error) => {
      throw new PolytheneError(
        `Cannot pull "${request.image}": cannot stage in the store "${request.store}": ${
          error instanceof Error ? error.message : String(error)
        }`,
        { exitCode: 1, cause: error },
      );
    },
  );
  request.log(`staging ${staging.dir}`);
  const stop = new Interruption(request.timeoutSeconds);
  const work = fill(staging, source, platform, request, stop.signal);
  let published = false;
  try {
    const meta = await stop.race(work);
    if ("reused" in meta) {
      request.log(`reusing ${request.store}/${meta.reused}`);
      request.onReuse?.(meta.reused);
      return meta.reused;
    }
    await writeMetadata(request.store, meta);
    await staging.publish();
    published = true;
    request.log(`published ${request.store}/${uuid}`);
    return uuid;
  } catch (error) {
    const interrupted = stop.reason(request.image);
    if (interrupted === undefined) throw error;
    // The abort stops the streams; let in-flight writes end before removal.
    await settled(work, 5_000);
    throw interrupted;
  } finally {
    stop.dispose();
    await staging.discard();
    if (!published) {
      await removeTemporaries(request.store, [uuid]);
      await new LayerStacks(request.store).removeTemporaries([uuid]);
    }
  }
}

async function settled(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}

async function fill(
  staging: Staging,
  source: ImageSource,
  platform: Platform,
  request: PullRequest,
  signal: AbortSignal,
): Promise<EntryMetadata | { reused: string }> {
  const asRoot = Deno.uid() === 0;
  const created = new Date().toISOString();
  const free = await freeBytes(staging.dir);
  request.log(
    `free space in the store: ${free === undefined ? "unknown" : free}`,
  );
  let image: SourceImage | undefined;
  let resolvedRef: ImageReference | undefined;
  let fileBytes = 0;
  let skippedDevices = 0;
  let ownership: EntryMetadata["ownership"];
  let podmanFacts: PodmanImageFacts | undefined;
  let puller: "native" | "podman" =
    request.puller === "podman" || source.kind === "containers-storage"
      ? "podman"
      : "native";
  if (puller === "native") {
    const native = await nativePull(staging, source, platform, request, {
      signal,
      asRoot,
      free,
      podmanInstalled: () =>
        which("podman", request.hostEnv("PATH") ?? "") !== undefined,
      reusable: request.reuse
        ? (digest) => reusableEntry(request, source, digest, platform)
        : undefined,
    });
    if ("reused" in native) return { reused: native.reused };
    if ("unreachable" in native) {
      request.warn(
        `the native puller could not reach any registry location for "${request.image}" (${native.unreachable.detail}); pulling through podman instead (--puller auto)`,
      );
      puller = "podman";
    } else {
      ({ image, ref: resolvedRef, fileBytes, skippedDevices, ownership } =
        native);
    }
  }
  if (puller === "podman") {
    ({ fileBytes, skippedDevices, facts: podmanFacts } = await viaPodman(
      staging.dir,
      source,
      platform,
      request,
      asRoot,
      free,
    ));
  }
  if (request.reuse && podmanFacts !== undefined) {
    const reused = await reusableEntry(
      request,
      source,
      podmanFacts.digest,
      platform,
    );
    if (reused !== undefined) return { reused };
  }
  const recorded = image?.platform ?? podmanFacts?.platform;
  const wrongPlatform = recordedPlatformProblem(recorded, platform);
  if (wrongPlatform !== undefined) {
    throw new PolytheneError(
      `Cannot pull "${request.image}": ${wrongPlatform}`,
      {
        exitCode: 1,
        hint: `pull it with --platform ${
          escapeControl(formatPlatform(recorded!))
        } if you mean to run it under emulation`,
      },
    );
  }
  if (skippedDevices > 0) {
    request.warn(
      `skipped ${skippedDevices} device node(s) of "${request.image}": ` +
        "only root can create them; their numbers are in the metadata",
    );
  }
  appendCreated(
    request.store,
    staging.uuid,
    await ensureRuntimeDirs(staging.dir),
  );
  await writeLegacyMeta(staging.dir, request.image, created).catch((error) => {
    if (!(error instanceof UnsafeTargetError)) throw error;
    throw new PolytheneError(
      `Cannot pull "${request.image}": the image has a ${error.kind} at ` +
        `/${LEGACY_META_NAME}, the name polythene writes its metadata to`,
      { exitCode: 1, cause: error },
    );
  });
  return {
    schema: 1,
    uuid: staging.uuid,
    reference: request.image,
    ...(source.kind === "registry"
      ? { normalized: formatReference(resolvedRef ?? source.reference) }
      : {}),
    ...(image?.digest ?? podmanFacts?.digest
      ? { digest: image?.digest ?? podmanFacts?.digest }
      : {}),
    ...(image?.platform ?? podmanFacts?.platform ?? platform
      ? { platform: image?.platform ?? podmanFacts?.platform ?? platform }
      : {}),
    puller,
    created,
    size: fileBytes,
    ...(image?.config.config ?? podmanFacts?.config
      ? { config: image?.config.config ?? podmanFacts?.config }
      : {}),
    ...(ownership ? { ownership } : {}),
    blobs: referencedBlobs(image),
    ...(baseRecord(image) ? { image: baseRecord(image) } : {}),
  };
}

/** The cached blobs an entry refers to: manifest, config and layers. */
function referencedBlobs(image: SourceImage | undefined): string[] {
  if (image === undefined) return [];
  const digests = [
    image.digest,
    image.configDigest,
    ...image.layers.map((layer) => layer.digest),
  ];
  return [...new Set(digests.filter((d): d is string => d !== undefined))];
}

async function viaPodman(
  dir: string,
  source: ImageSource,
  platform: Platform,
  request: PullRequest,
  asRoot: boolean,
  free: number | undefined,
): Promise<
  { fileBytes: number; skippedDevices: number; facts: PodmanImageFacts }
> {
  const podman = which("podman", request.hostEnv("PATH") ?? "");
  if (podman === undefined) {
    throw new PolytheneError(
      `Cannot pull "${request.image}": podman is not on PATH`,
      { exitCode: 1, hint: "install podman, or use --puller native" },
    );
  }
  const image = source.kind === "containers-storage"
    ? source.reference
    : request.image;
  let fileBytes = 0;
  let skippedDevices = 0;
  const facts = await podmanExport(image, {
    podman: podman.path,
    env: podmanEnv(request.hostEnv),
    pull: source.kind !== "containers-storage",
    tlsVerify: podmanTlsVerify(
      request.tlsVerify,
      source.kind === "registry" ? source.reference.registry : undefined,
    ),
    platform: request.platform ? formatPlatform(platform) : undefined,
    log: request.log,
  }, async (tar) => {
    // One flattened tar: the image's caps apply to it as to one layer.
    const limits = { ...DEFAULT_IMAGE_LIMITS, ...request.limits };
    const plan = planImage([], limits, free);
    const progress = request.progress ?? SILENT_PROGRESS;
    progress.start("podman export");
    const stats = await extractLayer(
      tar.pipeThrough(countingStream(progress)),
      dir,
      {
        asRoot,
        log: request.log,
        limits: layerLimits(plan, { bytes: 0, entries: 0 }),
        onEntry: (entries, bytes) => progress.written(entries, bytes),
      },
    ).catch((caught) => {
      const error = imageLimitError(caught, plan, limits);
      throw error instanceof ImageLimitError
        ? pullError(request.image, error)
        : error;
    });
    progress.end();
    fileBytes = stats.fileBytes;
    skippedDevices = stats.skippedDevices;
  });
  return { fileBytes, skippedDevices, facts };
}

/** Makes `/dev`, `/proc` and `/tmp` when missing; returns those it made. */
async function ensureRuntimeDirs(dir: string): Promise<string[]> {
  const made: string[] = [];
  for (const sub of ["dev", "proc", "tmp"]) {
    try {
      await Deno.mkdir(`${dir}/${sub}`);
      if (sub === "tmp") await Deno.chmod(`${dir}/${sub}`, 0o1777);
      made.push(`/${sub}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  return made;
}
