import { assertEquals } from "../helpers/assert.ts";
import {
  escapeControl,
  escapeControlKeepLines,
  escapeJson,
} from "../../src/escape.ts";

Deno.test("escapeControl escapes ESC, CR, BEL, DEL and C1 controls", () => {
  assertEquals(
    escapeControl("a\x1b[31mred\r\x07\x7f\x9b2J"),
    "a\\x1b[31mred\\x0d\\x07\\x7f\\u{9b}2J",
  );
});

Deno.test("escapeControl escapes newline and tab, keeps text and backslashes", () => {
  assertEquals(escapeControl("x\ny\tz\\é✓"), "x\\x0ay\\x09z\\é✓");
});

Deno.test("escapeControlKeepLines keeps newline and tab only", () => {
  assertEquals(
    escapeControlKeepLines("one\n\ttwo\x1b]0;title\x07\x00"),
    "one\n\ttwo\\x1b]0;title\\x07\\x00",
  );
});

Deno.test("escapeJson escapes DEL and C1 inside JSON strings and stays JSON", () => {
  const value = { label: "a\x7fb\x9bc\x1bd" };
  const json = escapeJson(JSON.stringify(value));
  // deno-lint-ignore no-control-regex -- matching controls is the point
  assertEquals(/[\x00-\x1f\x7f-\x9f]/.test(json), false);
  assertEquals(JSON.parse(json), value);
});

Deno.test("escapeControl keeps printable text, UTF-8 and backslashes included", () => {
  assertEquals(escapeControl("etc/naïve — ok \\x1b"), "etc/naïve — ok \\x1b");
});
