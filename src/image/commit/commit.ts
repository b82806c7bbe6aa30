/**
 * `commit`: turns an entry into an image of the local image store.
 *
 * For an entry whose base is known (pull recorded its config and layer
 * blobs, and they are in the blob cache) the image is the base's layers
 * plus one layer with the difference, computed against the base's tree
 * rebuilt from the layers' tar headers (`base_tree.ts`, `layer_plan.ts`).
 * The base layers go into the image store as hard links to the cached
 * blobs, never as copies. Without a known base, the image is one layer
 * holding the whole tree.
 *
 * The entry is locked exclusively (no `exec` runs in it meanwhile).
 * Polythene's own files are left out: `.polythene-meta`, and the paths in
 * the entry's record of what polythene created (`created_paths.ts`) while
 * they are still an empty file or directory.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store,
 * `--allow-sys=uid,gid`.
 *
 * @module
 */

import {
  EntryBusyError,
  PolytheneError,
  RootfsNotFoundError,
  UsageError,
} from "../../errors.ts";
import { detectFullMapHost } from "../../process/subids.ts";
import { BlobCache } from "../../store/blob_cache.ts";
import { readCreated } from "../../store/created_paths.ts";
import { lockEntry } from "../../store/lock.ts";
import {
  type EntryMetadata,
  LEGACY_META_NAME,
  readMetadata,
} from "../../store/metadata.ts";
import { checkStoreRoot } from "../../store/root_safety.ts";
import {
  type ProgressReporter,
  SILENT_PROGRESS,
  skipItem,
} from "../../progress.ts";
import { entryPath } from "../../store/store.ts";
import {
  addLocalImage,
  imagesDir,
  normalizeRef,
  writeBlob,
} from "../local_images.ts";
import { type BaseTree, childrenOf, loadBaseTree } from "./base_tree.ts";
import {
  diskOwners,
  type OwnerSource,
  scanEntry,
  unreadableFiles,
  UnreadableFilesError,
} from "./entry_tree.ts";
import {
  type BlobDescriptor,
  type Change,
  commitConfig,
  imageManifest,
  parseChange,
} from "./image_config.ts";
import { planLayer } from "./layer_plan.ts";
import {
  contentBytes,
  type LayerCompression,
  layerTar,
  writeLayer,
} from "./layer_writer.ts";
import { addRecordedDevices, recordedOwners } from "./owners.ts";

/** What to commit. */
export interface CommitRequest {
  /** The store root. */
  store: string;
  /** The entry. */
  uuid: string;
  /** A reference to record for the image (normalised as pull does). */
  ref?: string;
  /** `--change` values (`ENV=NAME=VALUE`, `WORKDIR=/path`). */
  changes?: readonly string[];
  /** The history comment. */
  message?: string;
  /** Layer compression (default gzip). */
  compression?: LayerCompression;
  /** Verbose log sink. */
  log?: (message: string) => void;
  /** Warnings (sockets left out). */
  warn?: (message: string) => void;
  /**
   * Told of each layer: the base's as skipped (reused, not written), the
   * new one's file content read and members written as it is written.
   */
  progress?: ProgressReporter;
}

/** What a commit made. */
export interface CommitResult {
  /** The image manifest's digest. */
  digest: string;
  /** The normalised REF, when one was given. */
  ref?: string;
  /** The new layer's blob. */
  layer: BlobDescriptor;
  /** Bytes of the new layer's uncompressed tar. */
  layerTarSize: number;
  /** Members in the new layer (whiteouts included). */
  members: number;
  /** Whether the image sits on the pulled base's layers. */
  onBase: boolean;
}

/**
 * Commits entry `uuid` as an image of the local image store.
 *
 * @throws {UsageError} for a bad `--change` or REF (before anything is
 * done); {RootfsNotFoundError}; {EntryBusyError} while a command runs in
 * the entry; {UnreadableFilesError} naming what cannot be read.
 */
export async function commitEntry(
  request: CommitRequest,
): Promise<CommitResult> {
  const log = request.log ?? (() => {});
  const changes: Change[] = (request.changes ?? []).map(parseChange);
  const ref = request.ref === undefined ? undefined : normalizeRef(request.ref);
  if (ref?.includes("@")) {
    throw new UsageError(
      `Invalid REF "${request.ref}": it names a digest; give a name and tag`,
      "commit",
    );
  }
  const { store, uuid } = request;
  const root = entryPath(store, uuid);
  if (!await checkStoreRoot(store)) throw new RootfsNotFoundError(uuid, root);
  using _lock = await lockEntry(store, uuid, {
    mode: "exclusive",
    wait: false,
    doing: "committing",
  }).catch((error) => {
    if (!(error instanceof EntryBusyError)) throw error;
    throw new PolytheneError(error.message, {
      exitCode: error.exitCode,
      hint: "commit when the command running in it has ended",
      cause: error,
    });
  });
  const meta = await readMetadata(store, uuid);
  const cache = new BlobCache(store, uuid);
  const base = await loadBase(cache, meta, log);
  const owners = ownerSource(meta);
  const exclude = await polytheneFiles(store, uuid, root);
  const entry = await scanEntry(root, uuid, owners, exclude);
  if (Deno.uid() !== 0 && meta?.ownership !== undefined) {
    addRecordedDevices(entry, meta.ownership, (key) => {
      return base?.tree.get(key)?.mtime ?? 0;
    });
  }
  for (const socket of entry.sockets) {
    request.warn?.(`left out /${socket}: a socket cannot go into an image`);
  }
  const plan = planLayer(
    entry,
    base?.tree,
    base ? childrenOf(base.tree) : undefined,
  );
  const files = plan.filter((item) =>
    item.kind === "node" && item.node.type === "file" && item.node.size > 0
  ).map((item) => item.key);
  const unreadable = await unreadableFiles(root, files);
  if (unreadable.length > 0) throw new UnreadableFilesError(uuid, unreadable);
  log(`commit: ${plan.length} member(s) in the new layer`);
  const progress = request.progress ?? SILENT_PROGRESS;
  const count = (base?.layers.length ?? 0) + 1;
  for (const [i, blob] of (base?.layers ?? []).entries()) {
    progress.start(
      `layer ${i + 1}/${count} ${blob.digest.slice(0, 19)}`,
      blob.size,
    );
    await linkCached(cache, store, blob);
    skipItem(progress, "reused from the base");
  }
  progress.start(`layer ${count}/${count} new`, contentBytes(plan));
  const layer = await writeLayer(
    store,
    layerTar(root, plan, progress),
    request.compression ?? "gzip",
  );
  progress.end();
  const created = new Date().toISOString();
  const configBytes = new TextEncoder().encode(JSON.stringify(commitConfig(
    {
      config: base?.config,
      runtime: meta?.config,
      platform: meta?.platform,
    },
    {
      changes,
      message: request.message,
      diffId: layer.diffId,
      created,
      uuid,
    },
  )));
  const config = await writeBlob(store, configBytes);
  const layers = [...(base?.layers ?? []), layer.descriptor];
  const manifestBytes = new TextEncoder().encode(JSON.stringify(
    imageManifest({ mediaType: "", ...config }, layers),
  ));
  const manifest = await writeBlob(store, manifestBytes);
  const descriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    ...manifest,
  };
  await addLocalImage(store, {
    manifest: descriptor,
    ref,
    entry: uuid,
    ...(base && meta?.normalized ? { base: meta.normalized } : {}),
  });
  return {
    digest: manifest.digest,
    ...(ref ? { ref } : {}),
    layer: layer.descriptor,
    layerTarSize: layer.tarSize,
    members: plan.length,
    onBase: base !== undefined,
  };
}

/** The pulled base, when its config and every layer blob are cached. */
async function loadBase(
  cache: BlobCache,
  meta: EntryMetadata | undefined,
  log: (message: string) => void,
): Promise<
  | {
    config: Record<string, unknown>;
    layers: BlobDescriptor[];
    tree: BaseTree;
  }
  | undefined
> {
  const image = meta?.image;
  if (image === undefined) {
    log("commit: no recorded base image; the layer holds the whole tree");
    return undefined;
  }
  const path = cache.path(image.config);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await Deno.readTextFile(path ?? ""));
  } catch {
    log(
      "commit: the base config is not cached; the layer holds the whole tree",
    );
    return undefined;
  }
  const tree = await loadBaseTree(cache, image.layers);
  if (tree === undefined) {
    log("commit: a base layer is not cached; the layer holds the whole tree");
    return undefined;
  }
  return { config, layers: image.layers, tree };
}

function ownerSource(meta: EntryMetadata | undefined): OwnerSource {
  const uid = Deno.uid() ?? 0;
  if (uid === 0) return diskOwners;
  const host = detectFullMapHost(uid, "");
  return recordedOwners(meta?.ownership ?? {}, {
    uid,
    gid: Deno.gid() ?? 0,
    uids: host.uids,
    gids: host.gids,
  });
}

/**
 * Keys to leave out: `.polythene-meta`, and recorded created paths that
 * are still an empty file, or a directory holding nothing but such paths
 * (deepest first, so `/made/here` lets `/made` go too).
 */
async function polytheneFiles(
  store: string,
  uuid: string,
  root: string,
): Promise<Set<string>> {
  const out = new Set([LEGACY_META_NAME]);
  const recorded = [...await readCreated(store, uuid)].sort((a, b) =>
    b.split("/").length - a.split("/").length
  );
  for (const key of recorded) {
    try {
      const info = await Deno.lstat(`${root}/${key}`);
      if (info.isFile && info.size === 0) out.add(key);
      if (!info.isDirectory) continue;
      let empty = true;
      for await (const child of Deno.readDir(`${root}/${key}`)) {
        if (!out.has(`${key}/${child.name}`)) empty = false;
      }
      if (empty) out.add(key);
    } catch {
      // Gone since: nothing to leave out.
    }
  }
  return out;
}

/** Puts a cached base layer into the image store, as a hard link. */
async function linkCached(
  cache: BlobCache,
  store: string,
  blob: BlobDescriptor,
): Promise<void> {
  const from = cache.path(blob.digest);
  const to = `${imagesDir(store)}/blobs/${blob.digest.replace(":", "/")}`;
  if (from === undefined) return;
  try {
    await Deno.lstat(to);
    return;
  } catch {
    // Not there yet.
  }
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), {
    recursive: true,
    mode: 0o700,
  });
  try {
    await Deno.link(from, to);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    const tmp = `${to}.${crypto.randomUUID()}.tmp`;
    await Deno.copyFile(from, tmp);
    await Deno.rename(tmp, to);
  }
}
