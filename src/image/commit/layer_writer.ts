/**
 * Writes a planned layer: the tar stream of the plan's members (file bodies
 * read from the entry), compressed, into the local image store. The
 * uncompressed stream is hashed on the way for the config's `diff_id`.
 *
 * Bodies are read from files `lstat` showed to be regular; each open is
 * checked to be that same inode and each body must keep its size, so a file
 * that changed under the commit is an error, never a torn layer.
 *
 * Permissions: `--allow-read` on the entry, `--allow-write` on the store.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createZstdCompress } from "node:zlib";
import { Readable } from "node:stream";
import { PolytheneError } from "../../errors.ts";
import { escapeControl } from "../../escape.ts";
import { type ProgressReporter, SILENT_PROGRESS } from "../../progress.ts";
import { writeBlob } from "../local_images.ts";
import { MediaType } from "../media_types.ts";
import type { EntryNode } from "./entry_tree.ts";
import type { PlanItem } from "./layer_plan.ts";
import {
  encodeHeader,
  END_OF_ARCHIVE,
  padding,
  type TarHeader,
} from "./tar_format.ts";

/** Layer compressions commit writes. */
export type LayerCompression = "gzip" | "zstd";

/** A written layer. */
export interface WrittenLayer {
  /** The blob's descriptor. */
  descriptor: { mediaType: string; digest: string; size: number };
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
}

/** The tar header of one plan item. Pure. */
export function headerOf(item: PlanItem): TarHeader {
  if (item.kind === "whiteout" || item.kind === "opaque") {
    return {
      name: item.key,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    };
  }
  const node: EntryNode = item.node;
  const header: TarHeader = {
    name: item.key,
    type: item.kind === "link" ? "hardlink" : node.type,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    size: item.kind === "node" && node.type === "file" ? node.size : 0,
    mtime: node.mtime,
  };
  if (item.kind === "link") header.linkname = item.target;
  else if (node.type === "symlink") header.linkname = node.linkname;
  if (node.type === "char" || node.type === "block") {
    header.devmajor = node.devmajor;
    header.devminor = node.devminor;
  }
  return header;
}

/** Bytes of file content in `plan`: what the layer's bodies hold. Pure. */
export function contentBytes(plan: readonly PlanItem[]): number {
  let total = 0;
  for (const item of plan) {
    const header = headerOf(item);
    if (header.type === "file") total += header.size;
  }
  return total;
}

/**
 * The uncompressed tar of `plan`, file bodies read from `root`. `progress`
 * is told the file content read so far (`advance`) and the members and
 * content written so far (`written`), for the item the caller started.
 */
export function layerTar(
  root: string,
  plan: readonly PlanItem[],
  progress: ProgressReporter = SILENT_PROGRESS,
): ReadableStream<Uint8Array> {
  const iterator = members(root, plan, progress);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

async function* members(
  root: string,
  plan: readonly PlanItem[],
  progress: ProgressReporter,
): AsyncGenerator<Uint8Array> {
  let done = 0;
  let content = 0;
  for (const item of plan) {
    const header = headerOf(item);
    yield encodeHeader(header);
    if (header.type === "file" && header.size > 0) {
      for await (
        const chunk of body(`${root}/${item.key}`, item.key, header.size)
      ) {
        content += chunk.byteLength;
        progress.advance(content);
        yield chunk;
      }
      const pad = padding(header.size);
      if (pad > 0) yield new Uint8Array(pad);
    }
    progress.written(++done, content);
  }
  yield END_OF_ARCHIVE;
}

async function* body(
  path: string,
  key: string,
  size: number,
): AsyncGenerator<Uint8Array> {
  const changed = () =>
    new PolytheneError(
      `Cannot commit: /${escapeControl(key)} changed while it was read`,
      { exitCode: 1, hint: "commit again when nothing runs in the entry" },
    );
  const before = await Deno.lstat(path);
  using file = await Deno.open(path, { read: true });
  const info = await file.stat();
  if (!before.isFile || info.ino !== before.ino || info.dev !== before.dev) {
    throw changed();
  }
  let left = size;
  const buffer = new Uint8Array(256 * 1024);
  while (left > 0) {
    const n = await file.read(
      buffer.subarray(0, Math.min(left, buffer.length)),
    );
    if (n === null) throw changed();
    left -= n;
    yield buffer.slice(0, n);
  }
}

/**
 * Compresses `tar` and writes it as a blob of the local image store.
 */
export async function writeLayer(
  store: string,
  tar: ReadableStream<Uint8Array>,
  compression: LayerCompression,
): Promise<WrittenLayer> {
  const hash = createHash("sha256");
  let tarSize = 0;
  const hashed = tar.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        tarSize += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  const compressed = compression === "gzip"
    ? hashed.pipeThrough(
      new CompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >,
    )
    : zstdStream(hashed);
  const blob = await writeBlob(store, compressed);
  return {
    descriptor: {
      mediaType: compression === "gzip"
        ? MediaType.OciLayerGzip
        : MediaType.OciLayerZstd,
      ...blob,
    },
    diffId: `sha256:${hash.digest("hex")}`,
    tarSize,
  };
}

function zstdStream(
  input: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const encoder = createZstdCompress();
  // deno-lint-ignore no-explicit-any
  Readable.fromWeb(input as any).pipe(encoder);
  // deno-lint-ignore no-explicit-any
  return Readable.toWeb(encoder) as any as ReadableStream<Uint8Array>;
}
