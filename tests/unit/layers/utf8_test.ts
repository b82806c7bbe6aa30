import assert from "node:assert/strict";
import { isUtf8, showBytes } from "../../../src/image/layers/_utf8.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

Deno.test("isUtf8 refuses stray, overlong and surrogate bytes", () => {
  assert.equal(isUtf8(new TextEncoder().encode("naïve/日本/😀")), true);
  for (
    const bad of [
      b(0x6e, 0xff),
      b(0xc0, 0xaf), // overlong "/"
      b(0xed, 0xa0, 0x80), // a surrogate
      b(0xe2, 0x82), // cut short
    ]
  ) assert.equal(isUtf8(bad), false, String(bad));
});

Deno.test("showBytes escapes exactly the bytes that are not UTF-8", () => {
  assert.equal(showBytes(b(0x6e, 0xff)), "n\\xff");
  assert.equal(showBytes(b(0x6e, 0xfe)), "n\\xfe");
  assert.equal(showBytes(b(0xc0, 0xaf, 0x61)), "\\xc0\\xafa");
  assert.equal(showBytes(b(0xed, 0xa0, 0x80)), "\\xed\\xa0\\x80");
  assert.equal(
    showBytes(new TextEncoder().encode("naïve😀")),
    "naïve😀",
  );
  assert.equal(showBytes(b(0xe2, 0x82, 0x41)), "\\xe2\\x82A");
});
