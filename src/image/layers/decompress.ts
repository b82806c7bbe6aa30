/**
 * Layer media types and decompression: gzip (all members of a
 * concatenated stream), zstd (all frames, skippable frames skipped) and
 * plain tar, as streams with backpressure.
 *
 * Deno's `DecompressionStream("gzip")` fails on a second gzip member
 * ("failed to write whole buffer"), and `fzstd` keeps a window of up to
 * 2 GB chosen by the frame header, so both formats use `node:zlib`, which
 * is built into Deno (no npm import) and is also the fastest of the three.
 *
 * @module
 */

import { createGunzip, createZstdDecompress } from "node:zlib";
import {
  bareType,
  layerCompression as declaredCompression,
  UnsupportedLayerError,
} from "../media_types.ts";
import { LayerMediaTypeError } from "./errors.ts";
import { decodeWith, type Piece, wholePieces } from "./_node_decoder.ts";
import { zstdPieces } from "./_zstd_frames.ts";

/** How a layer blob is compressed. */
export type Compression = "gzip" | "zstd" | "tar";

/**
 * The compression a layer media type declares. Pure.
 *
 * @throws {LayerMediaTypeError} For `+encrypted` and unknown media types.
 */
export function layerCompression(mediaType: string): Compression {
  try {
    const compression = declaredCompression(mediaType);
    return compression === "none" ? "tar" : compression;
  } catch (error) {
    if (!(error instanceof UnsupportedLayerError)) throw error;
    throw new LayerMediaTypeError(
      mediaType,
      bareType(mediaType).includes("+encrypted"),
    );
  }
}

/** The compression that the first bytes of a blob show. Pure. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (
    head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f &&
    head[3] === 0xfd
  ) {
    return "zstd";
  }
  return "tar";
}

/**
 * Decompresses a layer blob into its tar stream.
 *
 * A blob declared as plain tar is sniffed, since `docker save` archives
 * hold gzip layers under tar names. Errors of `stream` pass through; a
 * corrupt gzip or zstd stream errors the result with a `LayerFormatError`.
 * Cancelling the result cancels `stream`.
 *
 * @param mediaType The layer descriptor's media type.
 * @param stream The blob's bytes; the result owns it.
 * @throws {LayerMediaTypeError} At once, for encrypted or unknown types.
 */
export function decompressStream(
  mediaType: string,
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const declared = layerCompression(mediaType);
  if (declared !== "tar") return decode(declared, stream);
  return sniffed(stream);
}

function decode(
  compression: Compression,
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  switch (compression) {
    case "gzip":
      return decodeWith(
        wholePieces(stream),
        () => createGunzip({ chunkSize: 128 * 1024 }),
        "gzip",
      );
    case "zstd":
      return decodeWith(
        zstdPieces(stream),
        () => createZstdDecompress({ chunkSize: 128 * 1024 }),
        "zstd",
      );
    case "tar":
      return stream;
  }
}

/** Peeks at the first bytes, then decodes as they show. */
function sniffed(
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async start() {
      const reader = stream.getReader();
      const head: Uint8Array[] = [];
      let length = 0;
      let ended = false;
      while (length < 4) {
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        head.push(value);
        length += value.length;
      }
      reader.releaseLock();
      const first = head.length === 1 ? head[0]! : concat(head, length);
      const rest = replay(first, ended ? undefined : stream);
      inner = decode(sniffCompression(first), rest).getReader();
    },
    async pull(controller) {
      const { done, value } = await inner!.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await (inner ? inner.cancel(reason) : stream.cancel(reason));
    },
  }, { highWaterMark: 0 });
}

/** `first`, then the rest of `stream`. */
function replay(
  first: Uint8Array,
  stream: ReadableStream<Uint8Array> | undefined,
): ReadableStream<Uint8Array> {
  const pieces = (async function* (): AsyncGenerator<Piece> {
    if (first.length > 0) yield { bytes: first, last: false };
    if (stream !== undefined) yield* wholePieces(stream);
  })();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await pieces.next();
      if (done) controller.close();
      else controller.enqueue(value.bytes);
    },
    async cancel() {
      await pieces.return(undefined);
    },
  }, { highWaterMark: 0 });
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
