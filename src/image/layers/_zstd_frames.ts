/**
 * Splits a zstd stream into its frames, so that each frame goes to a fresh
 * decoder: Deno's `node:zlib` zstd decoder stops after the first frame, and
 * zstd:chunked layers are many frames plus skippable ones. Only the framing
 * is parsed (RFC 8878 §3.1): headers for their length, block headers for
 * their size. Frame bytes are passed on as views, never copied.
 *
 * @module
 */

import { LayerFormatError } from "./errors.ts";
import type { Piece } from "./_node_decoder.ts";

const State = {
  Magic: 0,
  Descriptor: 1,
  HeaderRest: 2,
  BlockHeader: 3,
  BlockBody: 4,
  Checksum: 5,
  SkipSize: 6,
  Skip: 7,
} as const;
type State = typeof State[keyof typeof State];

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Frame splitter: feed chunks, get pieces; `last` marks each frame's end. */
export class ZstdFrameSplitter {
  #state: State = State.Magic;
  #need = 4;
  #header: number[] = [];
  #checksum = false;
  #lastBlock = false;
  #frameEnded = false;

  /** Splits `chunk`; throws {@linkcode LayerFormatError} on bad framing. */
  *feed(chunk: Uint8Array): Generator<Piece> {
    let i = 0;
    let from = this.#inFrame() ? 0 : -1;
    while (i < chunk.length) {
      if (this.#state === State.BlockBody || this.#state === State.Skip) {
        const take = Math.min(this.#need, chunk.length - i);
        i += take;
        this.#need -= take;
        if (this.#need === 0) this.#next();
      } else {
        this.#header.push(chunk[i]!);
        i++;
        if (--this.#need === 0) {
          const magic = this.#state === State.Magic;
          this.#next();
          if (magic && this.#state === State.Descriptor) {
            yield { bytes: new Uint8Array(ZSTD_MAGIC), last: false };
            from = i;
          }
        }
      }
      if (this.#frameEnded) {
        this.#frameEnded = false;
        yield { bytes: chunk.subarray(from, i), last: true };
        from = -1;
      }
    }
    if (from >= 0 && from < chunk.length) {
      yield { bytes: chunk.subarray(from), last: false };
    }
  }

  /** At the end of input: throws when a frame was cut short. */
  end(): void {
    if (this.#state !== State.Magic || this.#header.length > 0) {
      throw new LayerFormatError("zstd: the stream ends inside a frame");
    }
  }

  #inFrame(): boolean {
    return this.#state >= State.Descriptor && this.#state <= State.Checksum;
  }

  /** Moves past a completed state, using the header bytes it gathered. */
  #next(): void {
    const h = this.#header;
    switch (this.#state) {
      case State.Magic: {
        if (h.every((b, k) => b === ZSTD_MAGIC[k])) {
          this.#go(State.Descriptor, 1);
        } else if (
          (h[0]! & 0xf0) === 0x50 && h[1] === 0x2a &&
          h[2] === 0x4d && h[3] === 0x18
        ) {
          this.#go(State.SkipSize, 4);
        } else {
          throw new LayerFormatError("zstd: not a zstd frame");
        }
        return;
      }
      case State.Descriptor: {
        const fhd = h[0]!;
        if (fhd & 0x08) throw new LayerFormatError("zstd: reserved bit set");
        const single = (fhd >> 5) & 1;
        const fcsFlag = fhd >> 6;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
        this.#checksum = (fhd & 0x04) !== 0;
        const rest = (single ? 0 : 1) + dictBytes + fcsBytes;
        if (rest === 0) this.#go(State.BlockHeader, 3);
        else this.#go(State.HeaderRest, rest);
        return;
      }
      case State.HeaderRest:
        this.#go(State.BlockHeader, 3);
        return;
      case State.BlockHeader: {
        const v = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const type = (v >> 1) & 3;
        if (type === 3) {
          throw new LayerFormatError("zstd: reserved block type");
        }
        this.#lastBlock = (v & 1) === 1;
        const body = type === 1 ? 1 : v >>> 3;
        if (body > 0) this.#go(State.BlockBody, body);
        else this.#afterBlock();
        return;
      }
      case State.BlockBody:
        this.#afterBlock();
        return;
      case State.Checksum:
        this.#endFrame();
        return;
      case State.SkipSize: {
        const size = (h[0]! | (h[1]! << 8) | (h[2]! << 16)) + h[3]! * 2 ** 24;
        if (size > 0) this.#go(State.Skip, size);
        else this.#go(State.Magic, 4);
        return;
      }
      case State.Skip:
        this.#go(State.Magic, 4);
        return;
    }
  }

  #afterBlock(): void {
    if (!this.#lastBlock) this.#go(State.BlockHeader, 3);
    else if (this.#checksum) this.#go(State.Checksum, 4);
    else this.#endFrame();
  }

  #endFrame(): void {
    this.#go(State.Magic, 4);
    this.#frameEnded = true;
  }

  #go(state: State, need: number): void {
    this.#state = state;
    this.#need = need;
    this.#header = [];
  }
}

/** The frames of `stream` as pieces; cancels the stream when stopped. */
export async function* zstdPieces(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Piece> {
  const splitter = new ZstdFrameSplitter();
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        splitter.end();
        return;
      }
      yield* splitter.feed(value);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
