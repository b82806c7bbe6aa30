import assert from "node:assert/strict";
import { escapeControl } from "../../src/escape.ts";

Deno.test("escapeControl writes C0, DEL and C1 controls as \\xNN", () => {
  assert.equal(escapeControl("a\x1b[31mb"), "a\\x1b[31mb");
  assert.equal(
    escapeControl("\x00\t\n\r\x7f\x9b"),
    "\\x00\\x09\\x0a\\x0d\\x7f\\x9b",
  );
});

Deno.test("escapeControl keeps printable text, UTF-8 included", () => {
  assert.equal(escapeControl("etc/naïve — ok \\x1b"), "etc/naïve — ok \\x1b");
});
