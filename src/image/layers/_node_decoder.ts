/**
 * Runs `node:zlib` decoders behind a web `ReadableStream`, with backpressure
 * both ways: a decoder is paused while the reader is behind, so a bomb
 * never expands faster than it is consumed.
 *
 * @module
 */

import type { Transform } from "node:stream";
import { LayerFormatError } from "./errors.ts";

/** A run of compressed bytes; `last` ends the current decoder's input. */
export interface Piece {
  /** Compressed bytes, handed to the decoder as they are. */
  bytes: Uint8Array;
  /** After this piece, end the decoder and start a new one for the next. */
  last: boolean;
}

/**
 * Decodes `pieces` with decoders made by `make` (a new one after each piece
 * marked `last`), in order.
 *
 * Errors from `pieces` pass through unchanged; a decoder's error becomes a
 * {@linkcode LayerFormatError} naming `label`. Cancelling the result
 * destroys the decoder and returns the `pieces` iterator (which should
 * cancel its source in a `finally`).
 */
export function decodeWith(
  pieces: AsyncGenerator<Piece>,
  make: () => Transform,
  label: string,
): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let decoder: Transform | undefined;
  let done = false;

  const fail = (error: unknown, wrap: boolean) => {
    if (done) return;
    done = true;
    decoder?.destroy();
    const message = error instanceof Error ? error.message : String(error);
    controller.error(
      wrap ? new LayerFormatError(`${label}: ${message}`, error) : error,
    );
    pieces.return(undefined).catch(() => {});
  };

  const start = (): Transform => {
    const d = make();
    d.on("data", (chunk: Uint8Array) => {
      if (done) return;
      controller.enqueue(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if ((controller.desiredSize ?? 1) <= 0) d.pause();
    });
    d.on("error", (error: unknown) => fail(error, true));
    return d;
  };

  const settle = (d: Transform, event: "drain" | "end") =>
    new Promise<void>((resolve) => {
      const finish = () => {
        d.off(event, finish).off("close", finish);
        resolve();
      };
      d.once(event, finish).once("close", finish);
    });

  const pump = async () => {
    try {
      for await (const piece of pieces) {
        if (done) return;
        decoder ??= start();
        if (piece.bytes.length > 0 && !decoder.write(piece.bytes)) {
          await settle(decoder, "drain");
        }
        if (piece.last) {
          const ended = settle(decoder, "end");
          decoder.end();
          await ended;
          decoder = undefined;
        }
      }
      if (decoder !== undefined) {
        const ended = settle(decoder, "end");
        decoder.end();
        await ended;
      }
      if (!done) {
        done = true;
        controller.close();
      }
    } catch (error) {
      fail(error, false);
    }
  };

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      pump();
    },
    pull() {
      decoder?.resume();
    },
    async cancel() {
      done = true;
      decoder?.destroy();
      await pieces.return(undefined);
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }));
}

/** Every chunk of `stream` as one piece; cancels the stream when stopped. */
export async function* wholePieces(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Piece> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield { bytes: value, last: false };
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
