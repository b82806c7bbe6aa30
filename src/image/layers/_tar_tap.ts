/**
 * Reads the tar framing beside `modern-tar`, for what it does not expose or
 * reads differently from Go's `archive/tar` (which Docker and containerd
 * use): the raw typeflag (it maps unknown ones, such as GNU sparse `S`, to
 * "file"), the device numbers, and names as bytes. It also counts the
 * uncompressed bytes and stops the stream before they exceed the cap.
 *
 * Where modern-tar and Go differ, the tap makes the stream mean what it
 * means to Go, or refuses it:
 *
 * - PAX global headers (`g`) are ignored, as Go does: their body is zeroed
 *   on its way to the decoder, so no `path`, `linkpath`, `size` or other
 *   record of theirs reaches the entries after them.
 * - Names and link names that are not valid UTF-8 are refused, naming the
 *   entry with its bytes escaped (`n\xff`): modern-tar would decode them
 *   lossily, and `n\xff` and `n\xfe` would become one file.
 * - PAX records (`x` and `g`) that Go cannot parse are refused (a length
 *   that is not exact, no newline, no key, a NUL in a path, a `size`, `uid`,
 *   `gid` or time that is not a number): modern-tar would skip them.
 * - Meta records in an order where the two readers keep different ones (a
 *   GNU long name or link before a `g`, an `x` before a long name or link,
 *   an `x` after an `x` that followed one) are refused.
 *
 * Otherwise it follows modern-tar 0.8.6's framing exactly (bodyless types
 * carry no data whatever their size field says; PAX `size` from `x`
 * records; an `x` record followed by another meta record is dropped). The
 * extractor checks each record against the entry the decoder returns, so
 * any disagreement refuses the layer instead of mislabelling an entry.
 *
 * @module
 */

import { LayerFormatError, LayerLimitError, LayerPathError } from "./errors.ts";
import { isUtf8, showBytes } from "./_utf8.ts";

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

/** What the `x` record before an entry set, as modern-tar applies it. */
interface PendingPax {
  path?: Uint8Array;
  linkpath?: Uint8Array;
  size?: number;
}

/** The tap: pass each chunk through `take()` before the decoder; `shift()`. */
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
  #pax: PendingPax | null = null;
  #longName: Uint8Array | null = null;
  #longLink: Uint8Array | null = null;
  #zero = false;
  #ended = false;

  /** @param maxBytes Cap on the uncompressed tar stream (`maxExpandedBytes`). */
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /**
   * Counts and scans the next chunk of the stream.
   *
   * @returns The chunk to pass on to the decoder: `chunk` itself, or a copy
   * with the body of a PAX global header zeroed.
   * @throws {LayerLimitError} When the chunk would pass the byte cap.
   * @throws {LayerPathError} When an entry's name or link name is not UTF-8.
   * @throws {LayerFormatError} When meta records come in an ambiguous order.
   */
  take(chunk: Uint8Array): Uint8Array {
    if (this.bytes + chunk.length > this.#max) {
      throw new LayerLimitError(
        "maxExpandedBytes",
        this.#max,
        "the uncompressed layer is larger",
      );
    }
    this.bytes += chunk.length;
    return this.#scan(chunk);
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

  #scan(chunk: Uint8Array): Uint8Array {
    let out = chunk;
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
          if (this.#meta.type === "g") {
            if (out === chunk) out = chunk.slice();
            out.fill(0, i, i + take);
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
    return out;
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
      this.#startMeta(typeflag, size);
      return;
    }
    const name = this.#pax?.path ?? this.#longName;
    const link = this.#pax?.linkpath ?? this.#longLink;
    const nameOk = name ? isUtf8(name) : ustarNameIsUtf8(block);
    const linkOk = link ? isUtf8(link) : fieldIsUtf8(block, 157, 100);
    if (!nameOk || !linkOk) {
      const shown = showBytes(name ?? ustarName(block));
      throw nameOk
        ? new LayerPathError(
          shown,
          `its link name "${
            showBytes(link ?? field(block, 157, 100))
          }" is not valid UTF-8`,
        )
        : new LayerPathError(
          shown,
          "its name is not valid UTF-8, which no file name here can hold",
        );
    }
    this.#queue.push({
      typeflag,
      devmajor: numeric(block, 329, 8),
      devminor: numeric(block, 337, 8),
    });
    let body = BODYLESS.has(typeflag) ? 0 : this.#pax?.size ?? size;
    if (!Number.isSafeInteger(body) || body < 0) body = 0;
    this.#pax = null;
    this.#longName = null;
    this.#longLink = null;
    this.#skip = body + (-body & 511);
  }

  #startMeta(typeflag: string, size: number): void {
    const gnu = this.#longName !== null || this.#longLink !== null;
    if (typeflag === "g" && gnu) {
      throw ambiguous("a PAX global header after a GNU long name or link");
    }
    if ((typeflag === "L" || typeflag === "K") && this.#pax !== null) {
      throw ambiguous("a GNU long name or link after a PAX header");
    }
    if (typeflag === "x" && this.#pax !== null && gnu) {
      throw ambiguous("two PAX headers after a GNU long name or link");
    }
    // modern-tar drops a pending `x` when any meta record follows.
    this.#pax = null;
    const padded = size + (-size & 511);
    const keep = size <= MAX_META;
    this.#meta = {
      type: typeflag,
      size: keep ? size : 0,
      data: new Uint8Array(keep ? size : 0),
      got: 0,
    };
    this.#skip = padded;
    if (padded === 0) this.#endMeta();
  }

  #endMeta(): void {
    const meta = this.#meta!;
    this.#meta = null;
    if (meta.type === "x" || meta.type === "g") {
      const why = paxProblem(meta.data);
      if (why !== undefined) {
        throw new LayerFormatError(
          `tar: a malformed PAX record (${why}), which Docker refuses too`,
        );
      }
      if (meta.type === "x") this.#pax = paxRecords(meta.data);
    } else if (meta.type === "L") {
      this.#longName = beforeNul(meta.data);
    } else if (meta.type === "K") {
      this.#longLink = beforeNul(meta.data);
    }
  }
}

function ambiguous(what: string): LayerFormatError {
  return new LayerFormatError(
    `tar: ${what}, which Docker and polythene would read differently`,
  );
}

/** `bytes` up to the first NUL. */
function beforeNul(bytes: Uint8Array): Uint8Array {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}

/** A NUL-terminated header field, as bytes. */
function field(block: Uint8Array, offset: number, length: number): Uint8Array {
  return beforeNul(block.subarray(offset, offset + length)).slice();
}

/** Whether the magic is POSIX `ustar\\0` (GNU's `ustar ` has no prefix). */
function isPosix(block: Uint8Array): boolean {
  return block[257] === 0x75 && block[258] === 0x73 &&
    block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72 &&
    block[262] === 0;
}

/** Whether a NUL-terminated header field is UTF-8, without copying it. */
function fieldIsUtf8(
  block: Uint8Array,
  offset: number,
  length: number,
): boolean {
  let end = offset;
  while (end < offset + length && block[end] !== 0) end++;
  return isUtf8(block, offset, end);
}

/** {@linkcode ustarName} is UTF-8 (prefix and name are, `/` being ASCII). */
function ustarNameIsUtf8(block: Uint8Array): boolean {
  return fieldIsUtf8(block, 0, 100) &&
    (!isPosix(block) || fieldIsUtf8(block, 345, 155));
}

/** The ustar name, with the prefix when the magic is POSIX `ustar\0`. */
function ustarName(block: Uint8Array): Uint8Array {
  const name = field(block, 0, 100);
  const prefix = isPosix(block) ? field(block, 345, 155) : new Uint8Array();
  if (prefix.length === 0) return name;
  const joined = new Uint8Array(prefix.length + 1 + name.length);
  joined.set(prefix);
  joined[prefix.length] = 0x2f;
  joined.set(name, prefix.length + 1);
  return joined;
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

/** Values Go's reader parses as numbers: anything else fails the archive. */
const NUMERIC: Record<string, RegExp> = {
  size: /^\d+$/,
  uid: /^[+-]?\d+$/,
  gid: /^[+-]?\d+$/,
  mtime: /^[+-]?\d+(\.\d*)?$/,
  atime: /^[+-]?\d+(\.\d*)?$/,
  ctime: /^[+-]?\d+(\.\d*)?$/,
};

/**
 * Why Go's `archive/tar` would refuse these PAX records (`x` or `g`), or
 * undefined: each record is `LENGTH KEY=VALUE\n` with an exact decimal
 * length, a non-empty key, no NUL in a path, link path or key, and numbers
 * where Go parses numbers. Pure.
 */
export function paxProblem(data: Uint8Array): string | undefined {
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) return "no length";
    const digits = decoder.decode(data.subarray(offset, space));
    const length = /^\+?\d+$/.test(digits) ? Number(digits) : NaN;
    if (!(length >= 5) || offset + length > data.length) return "bad length";
    const end = offset + length;
    if (end <= space + 1 || data[end - 1] !== 0x0a) return "no newline";
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) return "no key";
    const key = decoder.decode(record.subarray(0, eq));
    const value = record.subarray(eq + 1);
    const paths = key === "path" || key === "linkpath" || key === "uname" ||
      key === "gname";
    if (paths ? value.includes(0) : key.includes("\0")) return "a NUL byte";
    const numeric = NUMERIC[key];
    const text = numeric ? decoder.decode(value) : "";
    if (numeric && !numeric.test(text)) return `${key} is not a number`;
    if (key === "size" && !Number.isSafeInteger(Number(text))) {
      return "size is too large";
    }
    offset = end;
  }
  return undefined;
}

/**
 * The records of an `x` header that modern-tar applies (`path`, `linkpath`,
 * `size`), values as bytes; null when no record parses (modern-tar then
 * treats it as no PAX header at all).
 */
function paxRecords(data: Uint8Array): PendingPax | null {
  let pax: PendingPax | null = null;
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = parseInt(decoder.decode(data.subarray(offset, space)), 10);
    if (!(length > 0)) break;
    const end = offset + length;
    const record = data.subarray(space + 1, Math.max(space + 1, end - 1));
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      pax ??= {};
      const key = decoder.decode(record.subarray(0, eq));
      const value = record.slice(eq + 1);
      if (key === "path") pax.path = value;
      if (key === "linkpath") pax.linkpath = value;
      const text = decoder.decode(value);
      if (key === "size" && /^\d+$/.test(text) && Number.isSafeInteger(+text)) {
        pax.size = +text;
      }
    }
    offset = end;
  }
  return pax;
}
