import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { uuidProblem, validateUuid } from "../../../src/store/uuid.ts";
import { entryPath, stateDir } from "../../../src/store/store.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("UUIDs and other plain names are valid", () => {
  for (
    const name of [
      "0192f0c4-1b2a-7c3d-8e4f-5a6b7c8d9e0f",
      "my-rootfs",
      "a",
      "x..y",
    ]
  ) {
    assertEquals(uuidProblem(name), undefined, name);
  }
});

Deno.test("anything that is not one safe path component is refused", () => {
  const cases: [string, string][] = [
    ["", "it is empty"],
    ["a/b", 'it contains "/"'],
    ["../etc", 'it contains "/"'],
    ["..", "it is a relative path"],
    [".", "it is a relative path"],
    ["-rf", 'it starts with "-"'],
    [".polythene", 'it starts with "." (reserved for the store)'],
    ["a\0b", "it contains a NUL byte"],
    ["x".repeat(256), "it is longer than 255 bytes"],
  ];
  for (const [name, problem] of cases) {
    assertEquals(uuidProblem(name), problem, JSON.stringify(name));
  }
});

Deno.test("validateUuid throws a usage error (exit 2)", () => {
  const error = assertThrows(() => validateUuid("../x"), UsageError);
  assertEquals(error.exitCode, 2);
  assertEquals(error.message, 'Invalid UUID "../x": it contains "/"');
});

Deno.test("entry and state paths are built only from valid names", () => {
  assertEquals(entryPath("/s/", "abc"), "/s/abc");
  assertEquals(entryPath("/", "abc"), "/abc");
  assertEquals(entryPath("/a/../s", "abc"), "/s/abc");
  assertEquals(stateDir("/s//"), "/s/.polythene");
  assertThrows(() => entryPath("/s", ".."), UsageError);
});
