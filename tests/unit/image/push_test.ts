import assert from "node:assert/strict";
import { parseDest } from "../../../src/image/push.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("parseDest normalises DEST-REF as pull does", () => {
  assert.deepEqual(parseDest("ghcr.io/me/app:1"), {
    registry: "ghcr.io",
    repository: "me/app",
    tag: "1",
  });
  assert.deepEqual(parseDest("busybox"), {
    registry: "docker.io",
    repository: "library/busybox",
    tag: "latest",
  });
});

Deno.test("parseDest: a malformed DEST-REF is a usage error of push", () => {
  assert.throws(
    () => parseDest("Bad/Name"),
    (error: unknown) =>
      error instanceof UsageError && error.command === "push" &&
      error.message.startsWith('Invalid DEST-REF "Bad/Name"'),
  );
});
