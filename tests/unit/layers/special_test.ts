import assert from "node:assert/strict";
import type { TarHeader } from "modern-tar";
import { LayerFormatError } from "../../../src/image/layers/mod.ts";
import { entryType } from "../../../src/image/layers/_special.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";

const raw = (typeflag: string) => ({ typeflag, devmajor: 0, devminor: 0 });
const header = (type: TarHeader["type"], name = "x"): TarHeader => ({
  name,
  size: 0,
  type,
});

Deno.test("entryType: decoder and tap agree", () => {
  assertEquals(entryType(header("file"), raw("0")), "file");
  assertEquals(entryType(header("file"), raw("\0")), "file");
  assertEquals(entryType(header("file"), raw("7")), "file");
  assertEquals(entryType(header("directory"), raw("5")), "dir");
  assertEquals(entryType(header("directory", "d/"), raw("0")), "dir");
  assertEquals(entryType(header("symlink"), raw("2")), "symlink");
  assertEquals(entryType(header("link"), raw("1")), "hardlink");
  assertEquals(entryType(header("character-device"), raw("3")), "char");
  assertEquals(entryType(header("block-device"), raw("4")), "block");
  assertEquals(entryType(header("fifo"), raw("6")), "fifo");
});

Deno.test("entryType: unsupported types and disagreements are refused", () => {
  for (const flag of ["S", "D", "V", "M", "N"]) {
    assertThrows(() => entryType(header("file"), raw(flag)), LayerFormatError);
  }
  assertThrows(() => entryType(header("symlink"), raw("1")), LayerFormatError);
  assertThrows(
    () => entryType(header("directory"), raw("0")),
    LayerFormatError,
  );
  assertThrows(() => entryType(header("file"), undefined), LayerFormatError);
  const sparse = { ...header("file"), pax: { "GNU.sparse.major": "1" } };
  const error = assertThrows(
    () => entryType(sparse, raw("0")),
    LayerFormatError,
  );
  assert.match(error.message, /sparse/);
});
