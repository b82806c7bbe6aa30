/**
 * `export`: writes an image of the local image store as an OCI layout
 * directory, an OCI archive, a docker archive (`manifest.json`,
 * `repositories`), or its flattened root filesystem as a plain tar.
 *
 * Files are written under a temporary name beside DEST (`O_EXCL`, so never
 * through a link) and renamed into place when complete; an `oci` DEST is a
 * new directory, or an empty one of yours, and its files are made with
 * `O_EXCL` too; an existing one must be writable by you alone, or another
 * user could plant links in it (`blobs` to elsewhere). Blobs are copied
 * from the image store.
 *
 * Permissions: `--allow-read` on the store, `--allow-write` on DEST's
 * directory.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import { escapeControl } from "../../escape.ts";
import {
  blobPath,
  type LocalImage,
  readJsonBlob,
  resolveLocalImage,
} from "../local_images.ts";
import { parseReference } from "../reference.ts";
import { encodeHeader, END_OF_ARCHIVE, padding } from "../commit/tar_format.ts";
import { flattenLayers } from "./flatten.ts";

/** What `export` writes. */
export type ExportFormat = "oci" | "oci-archive" | "docker-archive" | "tar";

/** An image manifest as commit writes it. */
interface Manifest {
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

/** What was exported. */
export interface ExportResult {
  /** The image's manifest digest. */
  digest: string;
  /** Where it went. */
  dest: string;
}

/** DEST cannot be written (exit 1). */
export class ExportTargetError extends PolytheneError {
  /** Makes the error for `dest`, which is `why`. */
  constructor(
    dest: string,
    why: string,
    hint = "give a path that does not exist yet",
  ) {
    super(`Cannot export to "${escapeControl(dest)}": ${why}`, {
      exitCode: 1,
      hint,
    });
    this.name = "ExportTargetError";
  }
}

/**
 * Exports the image `what` (UUID, REF or digest) of `store` to `dest`.
 *
 * @throws {LocalImageNotFoundError}; {ExportTargetError} when DEST exists
 * (or, for `oci`, is not an empty directory).
 */
export async function exportImage(
  store: string,
  what: string,
  format: ExportFormat,
  dest: string,
): Promise<ExportResult> {
  const image = await resolveLocalImage(store, what);
  const manifest = await readJsonBlob<Manifest>(
    image.layout,
    image.manifest.digest,
  );
  if (format === "oci") await writeLayoutDir(image, manifest, dest);
  else {
    const members = format === "tar"
      ? flattenLayers(manifest.layers.map((layer) => ({
        mediaType: layer.mediaType,
        open: async () =>
          (await Deno.open(blobPath(image.layout, layer.digest))).readable,
      })))
      : archiveMembers(image, manifest, format);
    await writeNewFile(dest, members);
  }
  return { digest: image.manifest.digest, dest };
}

/** A file of an archive: bytes, or a blob of the layout. */
type ArchiveFile = { name: string; bytes: Uint8Array } | {
  name: string;
  path: string;
  size: number;
};

/** The tag of a normalised REF (`v1` of `host/repo:v1`). Pure. */
export function tagOf(ref: string | undefined): string | undefined {
  return ref === undefined ? undefined : parseReference(ref).tag;
}

/**
 * The files of an OCI layout for `image`. The index names the image by its
 * tag in a layout directory (as `oci:DIR:TAG` and `umoci` expect it;
 * `latest` for an image without a REF) and by its whole reference in an
 * archive (as `podman load` names what it loads).
 */
function layoutFiles(
  image: LocalImage,
  manifest: Manifest,
  archive: boolean,
): ArchiveFile[] {
  const tag = archive ? image.ref : tagOf(image.ref) ?? "latest";
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      ...image.manifest,
      ...(tag === undefined
        ? {}
        : { annotations: { "org.opencontainers.image.ref.name": tag } }),
    }],
  };
  const blob = (d: { digest: string; size: number }): ArchiveFile => ({
    name: `blobs/${d.digest.replace(":", "/")}`,
    path: blobPath(image.layout, d.digest),
    size: d.size,
  });
  return [
    { name: "oci-layout", bytes: json({ imageLayoutVersion: "1.0.0" }) },
    { name: "index.json", bytes: json(index) },
    blob(image.manifest),
    blob(manifest.config),
    ...manifest.layers.map(blob),
  ];
}

/** The files of a docker archive (`docker save`'s format) for `image`. */
async function dockerFiles(
  image: LocalImage,
  manifest: Manifest,
): Promise<ArchiveFile[]> {
  const hex = (digest: string) => digest.slice(digest.indexOf(":") + 1);
  const config = await readJsonBlob<{ rootfs?: { diff_ids?: string[] } }>(
    image.layout,
    manifest.config.digest,
  );
  const diffIds = config.rootfs?.diff_ids ?? [];
  const layerName = (i: number) =>
    `${hex(diffIds[i] ?? manifest.layers[i]!.digest)}.tar`;
  const repoTags = image.ref === undefined ? [] : [image.ref];
  const files: ArchiveFile[] = [
    {
      name: "manifest.json",
      bytes: json([{
        Config: `${hex(manifest.config.digest)}.json`,
        RepoTags: repoTags,
        Layers: manifest.layers.map((_, i) => layerName(i)),
      }]),
    },
    {
      name: `${hex(manifest.config.digest)}.json`,
      path: blobPath(image.layout, manifest.config.digest),
      size: manifest.config.size,
    },
    ...manifest.layers.map((layer, i) => ({
      name: layerName(i),
      path: blobPath(image.layout, layer.digest),
      size: layer.size,
    })),
  ];
  if (image.ref !== undefined) {
    const ref = parseReference(image.ref);
    const top = layerName(manifest.layers.length - 1).replace(/\.tar$/, "");
    files.push({
      name: "repositories",
      bytes: json({
        [`${ref.registry}/${ref.repository}`]: { [ref.tag ?? "latest"]: top },
      }),
    });
  }
  return files;
}

async function* archiveMembers(
  image: LocalImage,
  manifest: Manifest,
  format: "oci-archive" | "docker-archive",
): AsyncGenerator<Uint8Array> {
  const files = format === "oci-archive"
    ? layoutFiles(image, manifest, true)
    : await dockerFiles(image, manifest);
  const dirs = new Set<string>();
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.name)) continue; // The same blob twice.
    seen.add(file.name);
    const parts = file.name.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      yield encodeHeader(member(dir, "dir", 0));
    }
    const size = "bytes" in file ? file.bytes.length : file.size;
    yield encodeHeader(member(file.name, "file", size));
    if ("bytes" in file) yield file.bytes;
    else {
      let copied = 0;
      for await (const chunk of (await Deno.open(file.path)).readable) {
        copied += chunk.length;
        yield chunk;
      }
      if (copied !== size) {
        throw new PolytheneError(
          `Cannot export: blob ${file.path} is ${copied} bytes, not ${size}`,
          { exitCode: 1, hint: "commit the entry again" },
        );
      }
    }
    if (padding(size) > 0) yield new Uint8Array(padding(size));
  }
  yield END_OF_ARCHIVE;
}

function member(name: string, type: "file" | "dir", size: number) {
  return {
    name,
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: 0,
  };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The error for a DEST that cannot be made. */
function unwritable(dest: string, error: unknown): ExportTargetError {
  const why = (error as Error).message.replace(/ \(os error \d+\).*$/, "");
  return new ExportTargetError(
    dest,
    why,
    error instanceof Deno.errors.PermissionDenied
      ? "choose a directory you can write to"
      : "give a path in an existing directory that does not exist yet",
  );
}

/** Writes `chunks` to a new file at `dest` (temporary name, then rename). */
async function writeNewFile(
  dest: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  await refuseExisting(dest);
  const tmp = `${dest}.polythene-${crypto.randomUUID()}.tmp`;
  try {
    const file = await Deno.open(tmp, {
      write: true,
      createNew: true,
      mode: 0o644,
    }).catch((error) => {
      throw unwritable(dest, error);
    });
    await ReadableStream.from(chunks).pipeTo(file.writable);
    await refuseExisting(dest);
    await Deno.rename(tmp, dest);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

async function refuseExisting(dest: string): Promise<void> {
  try {
    await Deno.lstat(dest);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw unwritable(dest, error);
  }
  throw new ExportTargetError(dest, "it already exists");
}

/** Writes an OCI layout directory at `dest` (new, or an empty directory). */
async function writeLayoutDir(
  image: LocalImage,
  manifest: Manifest,
  dest: string,
): Promise<void> {
  try {
    await Deno.mkdir(dest, { mode: 0o755 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw unwritable(dest, error);
    }
    const info = await Deno.lstat(dest);
    const empty = info.isDirectory &&
      (await Deno.readDir(dest)[Symbol.asyncIterator]().next()).done;
    if (empty && info.uid !== Deno.uid()) {
      // Another user could swap names inside it for links while we write.
      throw new ExportTargetError(
        dest,
        `it is owned by uid ${info.uid}, not by you`,
        "give a path that does not exist yet, or a directory you own",
      );
    }
    if (!empty) {
      throw new ExportTargetError(
        dest,
        "it exists and is not an empty directory",
      );
    }
    const mode = (info.mode ?? 0) & 0o7777;
    if ((mode & 0o022) !== 0) {
      // Others could put links at the names written into it.
      throw new ExportTargetError(
        dest,
        `other users may write in it (mode ${
          mode.toString(8).padStart(4, "0")
        })`,
        "give a path that does not exist yet, or chmod go-w the directory",
      );
    }
  }
  await Deno.mkdir(`${dest}/blobs/sha256`, { recursive: true, mode: 0o755 });
  for (const file of layoutFiles(image, manifest, false)) {
    const target = `${dest}/${file.name}`;
    if ("bytes" in file) {
      await Deno.writeFile(target, file.bytes, {
        createNew: true,
        mode: 0o644,
      });
      continue;
    }
    try {
      await Deno.lstat(target);
      continue; // The same blob twice (a repeated layer).
    } catch {
      // Not yet.
    }
    // O_EXCL: never through a link someone put at the name.
    const out = await Deno.open(target, {
      write: true,
      createNew: true,
      mode: 0o644,
    });
    await (await Deno.open(file.path)).readable.pipeTo(out.writable);
  }
}
