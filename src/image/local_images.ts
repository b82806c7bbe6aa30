/**
 * The local image store: the images `polythene commit` makes, kept as one
 * OCI image layout at `STORE/.polythene/images/` (`oci-layout`,
 * `index.json`, `blobs/sha256/HEX`).
 *
 * Each committed image is one manifest descriptor in `index.json`, with the
 * annotations `io.polythene.entry` (the entry it was committed from),
 * `org.opencontainers.image.ref.name` (the normalised REF, when one was
 * given) and `org.opencontainers.image.created`. A REF names one image at a
 * time: adding it again moves it to the new manifest. An entry may have been
 * committed many times; the newest commit is the last one in the index.
 *
 * The layout is private: directories 0700 and files 0600, so as root no
 * group or other bits (the store root's rules). Blobs are written to a
 * temporary file and renamed to their digest; `index.json` is replaced
 * atomically (safe write) under an exclusive lock on `images/index.lock`,
 * so concurrent commits never lose each other's entries.
 *
 * Permissions: `--allow-read`, `--allow-write` on the store,
 * `--allow-sys=uid`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ExitCode, PolytheneError, UsageError } from "../errors.ts";
import { escapeControl } from "../escape.ts";
import { lockStateFile } from "../store/lock.ts";
import { checkStoreRoot } from "../store/root_safety.ts";
import { writeFileNoFollow } from "../store/safe_write.ts";
import { stateDir } from "../store/store.ts";
import { digestProblem, formatReference, parseReference } from "./reference.ts";

/** Annotation naming the entry an image was committed from. */
export const ENTRY_ANNOTATION = "io.polythene.entry";
/**
 * Annotation naming the registry reference of the image a commit built on
 * (its layers are that image's), for a push's cross-repository mount.
 */
export const BASE_ANNOTATION = "io.polythene.base";
/** The OCI annotation holding an image's reference. */
export const REF_ANNOTATION = "org.opencontainers.image.ref.name";
/** The OCI annotation holding when the image was made. */
export const CREATED_ANNOTATION = "org.opencontainers.image.created";

/** One image in the local image store. */
export interface LocalImage {
  /** The OCI layout directory (`STORE/.polythene/images`). */
  layout: string;
  /** The image manifest's descriptor. */
  manifest: { mediaType: string; digest: string; size: number };
  /** The normalised reference, when the image has one. */
  ref?: string;
  /** The entry it was committed from. */
  entry?: string;
  /**
   * The normalised reference of the pulled image whose layers this image
   * starts with, when it was committed over a base from a registry.
   */
  base?: string;
}

/** No local image matches what was asked for (exit 1). */
export class LocalImageNotFoundError extends PolytheneError {
  /** Makes the error for `what` (a UUID, REF or digest) in `store`. */
  constructor(what: string, store: string) {
    super(
      `No local image for "${escapeControl(what)}" in ${store}: ` +
        "no entry of that UUID and no REF of that name was committed",
      {
        exitCode: ExitCode.NotFound,
        hint: "Run `polythene commit UUID [REF]` first",
      },
    );
    this.name = "LocalImageNotFoundError";
  }
}

/** `STORE/.polythene/images`. Pure. */
export function imagesDir(store: string): string {
  return `${stateDir(store)}/images`;
}

/** A descriptor as `index.json` holds it. */
interface IndexDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** `index.json` of an OCI layout. */
interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: IndexDescriptor[];
}

const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
const UUID_LIKE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The normalised form of a REF as pull normalises references
 * (`alpine` is `docker.io/library/alpine:latest`). Pure.
 *
 * @throws {UsageError} for an invalid reference.
 */
export function normalizeRef(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch (error) {
    if (error instanceof UsageError) {
      throw new UsageError(error.message.replace("image reference", "REF"));
    }
    throw error;
  }
}

/**
 * Which descriptor of `manifests` `what` names: a UUID matches the newest
 * image committed from that entry, `sha256:HEX` a manifest digest, anything
 * else the normalised REF. Pure.
 *
 * @returns the index into `manifests`, or -1.
 * @throws {UsageError} when `what` is neither a UUID, a digest nor a valid
 * reference.
 */
export function findImage(
  manifests: readonly IndexDescriptor[],
  what: string,
): number {
  const last = (match: (d: IndexDescriptor) => boolean) =>
    manifests.findLastIndex(match);
  if (UUID_LIKE.test(what)) {
    const byEntry = last((d) =>
      d.annotations?.[ENTRY_ANNOTATION] === what.toLowerCase()
    );
    if (byEntry >= 0) return byEntry;
  }
  if (what.startsWith("sha256:") && digestProblem(what) === undefined) {
    return last((d) => d.digest === what);
  }
  if (UUID_LIKE.test(what)) return -1;
  const ref = normalizeRef(what);
  return last((d) => d.annotations?.[REF_ANNOTATION] === ref);
}

/**
 * The new descriptor list after adding `added`: a REF it carries is taken
 * off any older descriptor (a REF names one image), and a descriptor left
 * with neither REF nor entry is dropped. Pure.
 */
export function withImage(
  manifests: readonly IndexDescriptor[],
  added: IndexDescriptor,
): IndexDescriptor[] {
  const ref = added.annotations?.[REF_ANNOTATION];
  const kept: IndexDescriptor[] = [];
  for (const descriptor of manifests) {
    if (ref === undefined || descriptor.annotations?.[REF_ANNOTATION] !== ref) {
      kept.push(descriptor);
      continue;
    }
    const { [REF_ANNOTATION]: _, ...rest } = descriptor.annotations ?? {};
    if (rest[ENTRY_ANNOTATION] === undefined) continue;
    kept.push({ ...descriptor, annotations: rest });
  }
  kept.push(added);
  return kept;
}

/**
 * Finds an image in the local image store.
 *
 * @param store The store root.
 * @param uuidOrRef An entry's UUID (newest commit of it), a REF (normalised
 * as pull does), or a manifest digest.
 * @throws {LocalImageNotFoundError} when nothing matches;
 * {UsageError} for an invalid REF; {UnsafeStoreError}.
 */
export async function resolveLocalImage(
  store: string,
  uuidOrRef: string,
): Promise<LocalImage> {
  const layout = imagesDir(store);
  if (!await checkStoreRoot(store)) {
    throw new LocalImageNotFoundError(uuidOrRef, store);
  }
  const index = await readIndex(layout);
  const found = index.manifests[findImage(index.manifests, uuidOrRef)];
  if (found === undefined) throw new LocalImageNotFoundError(uuidOrRef, store);
  const image: LocalImage = {
    layout,
    manifest: {
      mediaType: found.mediaType,
      digest: found.digest,
      size: found.size,
    },
  };
  const ref = found.annotations?.[REF_ANNOTATION];
  const entry = found.annotations?.[ENTRY_ANNOTATION];
  const base = found.annotations?.[BASE_ANNOTATION];
  if (base !== undefined) image.base = base;
  if (ref !== undefined) image.ref = ref;
  if (entry !== undefined) image.entry = entry;
  return image;
}

/**
 * Records a manifest (whose blob is already written with
 * {@linkcode writeBlob}) in `index.json`, under the lock. A REF is
 * normalised and moved to this manifest.
 *
 * @throws {UsageError} for an invalid REF.
 */
export async function addLocalImage(
  store: string,
  image: {
    manifest: { mediaType: string; digest: string; size: number };
    ref?: string;
    entry?: string;
    base?: string;
  },
): Promise<void> {
  const annotations: Record<string, string> = {
    [CREATED_ANNOTATION]: new Date().toISOString(),
  };
  if (image.ref !== undefined) {
    annotations[REF_ANNOTATION] = normalizeRef(image.ref);
  }
  if (image.entry !== undefined) annotations[ENTRY_ANNOTATION] = image.entry;
  if (image.base !== undefined) annotations[BASE_ANNOTATION] = image.base;
  const layout = await ensureLayout(store);
  using _lock = await lockStateFile(`${layout}/index.lock`);
  const index = await readIndex(layout);
  const manifests = withImage(index.manifests, {
    mediaType: image.manifest.mediaType,
    digest: image.manifest.digest,
    size: image.manifest.size,
    annotations,
  });
  const text = JSON.stringify(
    { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests },
    null,
    2,
  );
  await writeFileNoFollow(layout, "index.json", text + "\n", 0o600);
}

/**
 * Writes a blob into the layout's `blobs/sha256/`, hashing as it streams;
 * the file is renamed to its digest only when complete. Writing a blob that
 * is already there is harmless (idempotent).
 *
 * @returns its digest and size.
 */
export async function writeBlob(
  store: string,
  content: Uint8Array | ReadableStream<Uint8Array>,
): Promise<{ digest: string; size: number }> {
  const dir = `${await ensureLayout(store)}/blobs/sha256`;
  const random = crypto.getRandomValues(new Uint8Array(12));
  const tmp = `${dir}/.tmp-${
    Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
  const file = await Deno.open(tmp, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  const hash = createHash("sha256");
  let size = 0;
  try {
    const stream = content instanceof Uint8Array
      ? new Blob([content as BlobPart]).stream()
      : content;
    await stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          hash.update(chunk);
          size += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    ).pipeTo(file.writable);
    const hex = hash.digest("hex");
    await Deno.rename(tmp, `${dir}/${hex}`);
    return { digest: `sha256:${hex}`, size };
  } catch (error) {
    try {
      file.close();
    } catch { /* closed by the stream */ }
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** The path of a blob of the layout. Pure. */
export function blobPath(layout: string, digest: string): string {
  const problem = digestProblem(digest);
  if (problem !== undefined) throw new TypeError(`Invalid ${problem}`);
  return `${layout}/blobs/${digest.replace(":", "/")}`;
}

/** Reads a small JSON blob (manifest, config) of the layout. */
export async function readJsonBlob<T>(
  layout: string,
  digest: string,
): Promise<T> {
  return JSON.parse(await Deno.readTextFile(blobPath(layout, digest))) as T;
}

/** Creates the layout (private) when missing; returns its path. */
async function ensureLayout(store: string): Promise<string> {
  await checkStoreRoot(store, { create: true });
  const layout = imagesDir(store);
  for (const dir of [stateDir(store), layout, `${layout}/blobs`]) {
    await Deno.mkdir(dir, { mode: 0o700 }).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
  }
  await Deno.mkdir(`${layout}/blobs/sha256`, { mode: 0o700 }).catch(
    (error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    },
  );
  try {
    await Deno.lstat(`${layout}/oci-layout`);
  } catch {
    await writeFileNoFollow(
      layout,
      "oci-layout",
      '{"imageLayoutVersion":"1.0.0"}\n',
      0o600,
    );
  }
  return layout;
}

/** `index.json`, or an empty index when there is none yet. */
async function readIndex(layout: string): Promise<ImageIndex> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${layout}/index.json`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { schemaVersion: 2, manifests: [] };
    }
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<ImageIndex>;
  return {
    schemaVersion: 2,
    manifests: Array.isArray(parsed.manifests) ? parsed.manifests : [],
  };
}
