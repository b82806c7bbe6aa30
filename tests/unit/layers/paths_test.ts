import {
  classifyEntryPath,
  DEFAULT_LIMITS,
  symlinkEscapes,
} from "../../../src/image/layers/mod.ts";
import { assertEquals } from "../../helpers/assert.ts";

const classify = (name: string) => classifyEntryPath(name, DEFAULT_LIMITS);

Deno.test("classifyEntryPath: ordinary names become components", () => {
  assertEquals(classify("etc/passwd"), {
    kind: "path",
    segments: ["etc", "passwd"],
  });
  assertEquals(classify("./etc//x/"), { kind: "path", segments: ["etc", "x"] });
  assertEquals(classify("a/./b"), { kind: "path", segments: ["a", "b"] });
  assertEquals(classify("..."), { kind: "path", segments: ["..."] });
  assertEquals(classify(".wh...").kind, "path");
});

Deno.test("classifyEntryPath: absolute names are contained", () => {
  assertEquals(classify("/etc/passwd"), {
    kind: "path",
    segments: ["etc", "passwd"],
  });
  assertEquals(classify("///tmp/x"), { kind: "path", segments: ["tmp", "x"] });
});

Deno.test("classifyEntryPath: the root itself", () => {
  for (const name of [".", "./", "/", "", "//", "././"]) {
    assertEquals(classify(name), { kind: "root" }, name);
  }
});

Deno.test('classifyEntryPath: any ".." component is refused', () => {
  for (
    const name of [
      "..",
      "../x",
      "a/../b",
      "a/..",
      "/../etc",
      "./a/../../x",
      "a/b/../../..",
    ]
  ) {
    assertEquals(classify(name).kind, "refused", name);
  }
});

Deno.test("classifyEntryPath: NUL bytes are refused", () => {
  assertEquals(classify("a\0b").kind, "refused");
});

Deno.test("classifyEntryPath: name, component and depth caps", () => {
  const limits = { maxNameBytes: 20, maxComponentBytes: 5, maxDepth: 3 };
  const limit = (name: string) => {
    const result = classifyEntryPath(name, limits);
    return result.kind === "limit" ? result.limit : result.kind;
  };
  assertEquals(limit("a/b/c"), "path");
  assertEquals(limit("a/b/c/d"), "maxDepth");
  assertEquals(limit("abcdef"), "maxComponentBytes");
  assertEquals(limit("a/b/c/".repeat(4)), "maxNameBytes");
  // Bytes, not characters: "é" is two bytes.
  assertEquals(limit("ééé"), "maxComponentBytes");
});

Deno.test("symlinkEscapes: absolute targets and climbs above the root", () => {
  assertEquals(symlinkEscapes(["s"], "/etc/passwd"), true);
  assertEquals(symlinkEscapes(["s"], "../x"), true);
  assertEquals(symlinkEscapes(["a", "b", "s"], "../../x"), false);
  assertEquals(symlinkEscapes(["a", "b", "s"], "../../../x"), true);
  assertEquals(symlinkEscapes(["a", "s"], "b/../../x"), false);
  assertEquals(symlinkEscapes(["a", "s"], "b/../../../x"), true);
  assertEquals(symlinkEscapes(["s"], "./x/./y"), false);
});
