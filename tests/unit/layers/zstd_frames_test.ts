import assert from "node:assert/strict";
import { zstdCompressSync } from "node:zlib";
import { LayerFormatError } from "../../../src/image/layers/mod.ts";
import { ZstdFrameSplitter } from "../../../src/image/layers/_zstd_frames.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Splits `bytes` fed in `step`-byte chunks; returns the frames' bytes. */
function frames(bytes: Uint8Array, step: number): number[][] {
  const splitter = new ZstdFrameSplitter();
  const out: number[][] = [[]];
  for (let off = 0; off < bytes.length; off += step) {
    for (const piece of splitter.feed(bytes.subarray(off, off + step))) {
      out[out.length - 1]!.push(...piece.bytes);
      if (piece.last) out.push([]);
    }
  }
  splitter.end();
  assertEquals(out.pop(), []);
  return out;
}

Deno.test("ZstdFrameSplitter: frames split exactly, at any chunking", () => {
  const a = new Uint8Array(zstdCompressSync(text("first frame ".repeat(50))));
  const b = new Uint8Array(zstdCompressSync(new Uint8Array(300_000)));
  const skip = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
  const c = new Uint8Array(zstdCompressSync(text("")));
  const all = new Uint8Array([...a, ...skip, ...b, ...c]);
  for (const step of [1, 2, 5, 13, 4096, all.length]) {
    assertEquals(frames(all, step), [[...a], [...b], [...c]], `step ${step}`);
  }
});

Deno.test("ZstdFrameSplitter: bad magic, reserved bits and truncation", () => {
  const bad = new ZstdFrameSplitter();
  assertThrows(() => [...bad.feed(text("tar!"))], LayerFormatError);
  const reserved = new ZstdFrameSplitter();
  assertThrows(
    () => [...reserved.feed(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x08]))],
    LayerFormatError,
  );
  const frame = new Uint8Array(zstdCompressSync(text("abc")));
  for (let cut = 1; cut < frame.length; cut++) {
    const splitter = new ZstdFrameSplitter();
    [...splitter.feed(frame.subarray(0, cut))];
    const error = assertThrows(() => splitter.end(), LayerFormatError);
    assert.match(error.message, /ends inside a frame/);
  }
});
