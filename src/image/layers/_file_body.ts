/**
 * Writing a regular file's body: small files are read whole and written
 * with one synchronous call; large ones stream, chunk by chunk, with
 * asynchronous writes so that decompression overlaps the copy. Both create
 * the file with O_EXCL (`createNew`), so a symlink left at the path would
 * fail the call instead of being followed.
 *
 * @module
 */

import { LayerFormatError } from "./errors.ts";

/**
 * A read of an entry's body failed: the decoder found the archive broken,
 * or the stream above it failed. The extractor tells which.
 */
export class BodyReadError extends Error {
  constructor(cause: unknown) {
    super("Cannot read an entry's body", { cause });
    this.name = "BodyReadError";
  }
}

/** Reads the next chunk of a body, marking failures as body reads. */
async function next(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    return await reader.read();
  } catch (error) {
    throw new BodyReadError(error);
  }
}

/** Files up to this size are read whole and written in one call. */
export const SMALL_FILE = 512 * 1024;

/**
 * Creates `path` with `mode` and the content of `body` (`size` bytes).
 * Large files are created 0600 and left for the caller to chmod.
 *
 * @param mtime Set before the file is closed, when given.
 */
export async function writeBody(
  path: string,
  body: ReadableStream<Uint8Array>,
  size: number,
  mode: number,
  mtime: Date | undefined,
  name: string,
): Promise<void> {
  if (size <= SMALL_FILE) {
    Deno.writeFileSync(path, await readWhole(body, size, name), {
      createNew: true,
      mode,
    });
    if (mtime) Deno.utimeSync(path, mtime, mtime);
    return;
  }
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  // A reader loop: `for await` over a stream costs four times as much.
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await next(reader);
      if (done) break;
      for (let off = 0; off < value.length;) {
        off += await file.write(value.subarray(off));
      }
    }
    if (mtime) await file.utime(mtime, mtime);
  } finally {
    file.close();
  }
}

/** The whole body; the decoder guarantees at most `size` bytes. */
export async function readWhole(
  body: ReadableStream<Uint8Array>,
  size: number,
  name: string,
): Promise<Uint8Array> {
  let data: Uint8Array | undefined;
  let filled = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await next(reader);
    if (done) break;
    if (filled + value.length > size) {
      throw new LayerFormatError(`tar: "${name}" is longer than its header`);
    }
    if (data === undefined && value.length === size) data = value;
    else (data ??= new Uint8Array(size)).set(value, filled);
    filled += value.length;
  }
  if (filled !== size) {
    throw new LayerFormatError(`tar: "${name}" is cut short`);
  }
  return data ?? new Uint8Array(0);
}
