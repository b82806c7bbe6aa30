/**
 * Reads the headers of a tar stream, skipping the bodies: what commit needs
 * to know of a base layer (names, types, modes, owners, sizes, times, link
 * targets), without keeping any file content. PAX (`x`) records and GNU
 * long names (`L`, `K`) apply to the next member; global headers (`g`) and
 * other metadata members are skipped.
 *
 * @module
 */

import {
  padding,
  parseBlock,
  parsePax,
  type TarHeader,
  typeOfFlag,
} from "./tar_format.ts";

/** One member as read: its header, its raw header blocks, its body. */
export interface TarMember {
  /** The parsed header. */
  header: TarHeader;
  /** The header blocks as they were (PAX and GNU long-name blocks too). */
  raw: Uint8Array;
  /**
   * The body, padded to whole blocks, as it streams; when not read before
   * the next member is asked for, it is skipped.
   */
  body(): AsyncGenerator<Uint8Array>;
}

/** Consumes `stream` and yields each member's header, in order. */
export async function* readTarHeaders(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<TarHeader> {
  for await (const member of readTarMembers(stream)) yield member.header;
}

/**
 * Consumes `stream` and yields each member (global headers and other
 * metadata members are skipped).
 */
export async function* readTarMembers(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<TarMember> {
  const reader = new BlockReader(stream.getReader());
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let raw: Uint8Array[] = [];
  try {
    for (;;) {
      const block = await reader.read(512);
      if (block === undefined) return;
      const parsed = parseBlock(block);
      if (parsed === undefined) return;
      raw.push(block.slice());
      if (parsed.flag === "x" || parsed.flag === "L" || parsed.flag === "K") {
        const body = await reader.read(parsed.size + padding(parsed.size));
        if (body === undefined) throw new Error("tar stream ends in a header");
        raw.push(body.slice());
        const data = body.subarray(0, parsed.size);
        if (parsed.flag === "x") pax = parsePax(data);
        else {
          const end = data.indexOf(0);
          const text = new TextDecoder().decode(
            end < 0 ? data : data.subarray(0, end),
          );
          if (parsed.flag === "L") longName = text;
          else longLink = text;
        }
        continue;
      }
      const size = Number(pax?.get("size") ?? parsed.size);
      const type = typeOfFlag(parsed.flag);
      const header: TarHeader | undefined = type === undefined ? undefined : {
        name: pax?.get("path") ?? longName ?? parsed.name,
        type,
        mode: parsed.mode & 0o7777,
        uid: Number(pax?.get("uid") ?? parsed.uid),
        gid: Number(pax?.get("gid") ?? parsed.gid),
        size: type === "file" ? size : 0,
        mtime: Math.floor(Number(pax?.get("mtime") ?? parsed.mtime)),
        linkname: pax?.get("linkpath") ?? longLink ?? parsed.linkname,
        devmajor: parsed.devmajor,
        devminor: parsed.devminor,
      };
      const headerBytes = concat(raw);
      pax = longName = longLink = undefined;
      raw = [];
      let left = size + padding(size);
      if (header !== undefined) {
        yield {
          header,
          raw: headerBytes,
          body: async function* () {
            while (left > 0) {
              const chunk = await reader.some(left);
              left -= chunk.length;
              yield chunk;
            }
          },
        };
      }
      await reader.skip(left);
    }
  } finally {
    await reader.cancel();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Exact-size reads and skips over a byte stream. */
class BlockReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  /** `n` bytes, or undefined at the end of the stream. */
  async read(n: number): Promise<Uint8Array | undefined> {
    if (this.#chunk.length >= n) {
      const out = this.#chunk.subarray(0, n);
      this.#chunk = this.#chunk.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      if (this.#chunk.length === 0 && !await this.#fill()) return undefined;
      const take = Math.min(n - have, this.#chunk.length);
      out.set(this.#chunk.subarray(0, take), have);
      this.#chunk = this.#chunk.subarray(take);
      have += take;
    }
    return out;
  }

  /** Up to `n` bytes (at least one), copied. */
  async some(n: number): Promise<Uint8Array> {
    if (this.#chunk.length === 0 && !await this.#fill()) {
      throw new Error("tar stream ends inside a member");
    }
    const take = Math.min(n, this.#chunk.length);
    const out = this.#chunk.slice(0, take);
    this.#chunk = this.#chunk.subarray(take);
    return out;
  }

  /** Skips `n` bytes. */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.#chunk.length === 0 && !await this.#fill()) {
        throw new Error("tar stream ends inside a member");
      }
      const take = Math.min(n, this.#chunk.length);
      this.#chunk = this.#chunk.subarray(take);
      n -= take;
    }
  }

  async cancel(): Promise<void> {
    if (!this.#done) await this.#reader.cancel().catch(() => {});
  }

  async #fill(): Promise<boolean> {
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#done = true;
      return false;
    }
    this.#chunk = value;
    return true;
  }
}
