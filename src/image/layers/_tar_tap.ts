/**
 * Reads the tar framing beside `modern-tar`, for the
 * header fields it does not expose: the raw typeflag (it maps unknown ones,
 * such as GNU sparse `S`, to "file") and the device numbers. It also counts
 * the uncompressed bytes and stops the stream before they exceed the cap.
 *
 * It follows modern-tar 0.8.6's framing exactly (bodyless types carry no
 * data whatever their size field says; PAX `size` from `x` and `g`
 * records; an `x` record followed by another meta record is dropped). The
 * extractor checks each record against the entry the decoder returns, so
 * any disagreement refuses the layer instead of mislabelling an entry.
 *
 * @module
 */

import { LayerLimitError } from "./errors.ts";

/** Raw facts about one entry header, in archive order. */
export interface RawHeader {
  /** The typeflag byte as a character (`"0"`, `"3"`, `"S"`, ...). */
  typeflag: string;
  /** Device major number (char and block devices). */
  devmajor: number;
  /** Device minor number (char and block devices). */
  devminor: number;
}

const BODYLESS = new Set(["1", "2", "3", "4", "5", "6"]);
const META = new Set(["x", "g", "L", "K"]);
const decoder = new TextDecoder();
/** modern-tar refuses larger PAX records; so the tap never buffers more. */
const MAX_META = 8 * 1024 * 1024;

/** The tap: `take()` each chunk before the decoder does; read `shift()`. */
export class TarTap {
  /** Total uncompressed bytes seen so far. */
  bytes = 0;
  readonly #max: number;
  readonly #queue: RawHeader[] = [];
  #head = 0;
  #block = new Uint8Array(512);
  #filled = 0;
  #skip = 0;
  #meta: { type: string; size: number; data: Uint8Array; got: number } | null =
    null;
  #nextSize: number | undefined;
  #nextHasPax = false;
  #globalSize: number | undefined;
  #zero = false;
  #ended = false;

  /** @param maxBytes Cap on the uncompressed tar stream (`maxExpandedBytes`). */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /**
   * Counts and scans the next chunk of the stream, before it is passed on.
   *
   * @throws {LayerLimitError} When the chunk would pass the byte cap.
   */
  take(chunk: Uint8Array): void {
    if (this.bytes + chunk.length > this.#max) {
      throw new LayerLimitError(
        "maxExpandedBytes",
        this.#max,
        "the uncompressed layer is larger",
      );
    }
    this.bytes += chunk.length;
    this.#scan(chunk);
  }

  /**
   * Whether the bytes so far end between two members: no header, body or
   * padding is half read. A stream that stops here lacks only the two
   * zero blocks that close an archive (Go's reader accepts that too).
   */
  atBoundary(): boolean {
    return this.#filled === 0 && this.#skip === 0 && this.#meta === null;
  }

  /** The next entry's raw header, in archive order. */
  shift(): RawHeader | undefined {
    const record = this.#queue[this.#head];
    if (record === undefined) return undefined;
    this.#queue[this.#head++] = undefined as unknown as RawHeader;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return record;
  }

  #scan(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.#ended) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - i);
        if (this.#meta !== null) {
          const want = Math.min(take, this.#meta.size - this.#meta.got);
          if (want > 0) {
            this.#meta.data.set(chunk.subarray(i, i + want), this.#meta.got);
            this.#meta.got += want;
          }
        }
        this.#skip -= take;
        i += take;
        if (this.#skip === 0 && this.#meta !== null) this.#endMeta();
        continue;
      }
      const take = Math.min(512 - this.#filled, chunk.length - i);
      this.#block.set(chunk.subarray(i, i + take), this.#filled);
      this.#filled += take;
      i += take;
      if (this.#filled === 512) {
        this.#filled = 0;
        this.#header(this.#block);
      }
    }
  }

  #header(block: Uint8Array): void {
    if (block.every((b) => b === 0)) {
      if (this.#zero) this.#ended = true;
      this.#zero = true;
      return;
    }
    this.#zero = false;
    const typeflag = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    if (META.has(typeflag)) {
      if (this.#nextHasPax) {
        this.#nextSize = undefined;
        this.#nextHasPax = false;
      }
      const padded = size + (-size & 511);
      const keep = (typeflag === "x" || typeflag === "g") && size <= MAX_META;
      this.#meta = {
        type: typeflag,
        size: keep ? size : 0,
        data: new Uint8Array(keep ? size : 0),
        got: 0,
      };
      this.#skip = padded;
      if (padded === 0) this.#endMeta();
      return;
    }
    this.#queue.push({
      typeflag,
      devmajor: numeric(block, 329, 8),
      devminor: numeric(block, 337, 8),
    });
    let body = BODYLESS.has(typeflag)
      ? 0
      : this.#nextSize ?? this.#globalSize ?? size;
    if (!Number.isSafeInteger(body) || body < 0) body = 0;
    this.#nextSize = undefined;
    this.#nextHasPax = false;
    this.#skip = body + (-body & 511);
  }

  #endMeta(): void {
    const meta = this.#meta!;
    this.#meta = null;
    if (meta.type !== "x" && meta.type !== "g") return;
    const { isPax, size } = paxSize(meta.data);
    if (meta.type === "g") {
      if (size !== undefined) this.#globalSize = size;
    } else if (isPax) {
      this.#nextHasPax = true;
      if (size !== undefined) this.#nextSize = size;
    }
  }
}

/** A ustar numeric field: octal text, or base-256 when the top bit is set. */
function numeric(block: Uint8Array, offset: number, length: number): number {
  if (block[offset]! & 0x80) {
    let value = block[offset]! & 0x7f;
    for (let k = 1; k < length; k++) value = value * 256 + block[offset + k]!;
    return value;
  }
  let value = 0;
  for (let k = offset; k < offset + length; k++) {
    const c = block[k]!;
    if (c === 0) break;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x37) return 0;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** Whether PAX records parse, and their `size`, as modern-tar reads them. */
function paxSize(data: Uint8Array): { isPax: boolean; size?: number } {
  let isPax = false;
  let size: number | undefined;
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = parseInt(decoder.decode(data.subarray(offset, space)), 10);
    if (!(length > 0)) break;
    const end = offset + length;
    const record = decoder.decode(data.subarray(space + 1, end - 1));
    const eq = record.indexOf("=");
    if (eq > 0) {
      isPax = true;
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (
        key === "size" && /^\d+$/.test(value) && Number.isSafeInteger(+value)
      ) {
        size = +value;
      }
    }
    offset = end;
  }
  return { isPax, size };
}
