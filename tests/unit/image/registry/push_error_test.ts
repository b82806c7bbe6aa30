import assert from "node:assert/strict";
import {
  asPushError,
  PushError,
} from "../../../../src/image/registry/push_error.ts";
import { RegistryError } from "../../../../src/image/registry/registry_error.ts";

Deno.test("asPushError: a RegistryError says push, keeping detail, kind, status and hint", () => {
  const error = asPushError(
    new RegistryError("r.example/a:1", "access denied (403)", {
      kind: "denied",
      status: 403,
      hint: "Log in",
    }),
    "r.example/a:1",
  );
  assert.ok(error instanceof PushError);
  assert.equal(
    error.message,
    'Cannot push "r.example/a:1": access denied (403)',
  );
  assert.equal(error.kind, "denied");
  assert.equal(error.status, 403);
  assert.equal(error.hint, "Log in");
  assert.equal(error.exitCode, 1);
});

Deno.test("asPushError: other errors pass unchanged", () => {
  const other = new TypeError("boom");
  assert.equal(asPushError(other, "x"), other);
  const pushed = new PushError("x", "y", { kind: "layout" });
  assert.equal(asPushError(pushed, "z"), pushed);
});

Deno.test("PushError keeps messages on one line", () => {
  const error = new PushError("x", "a\nb\r\nc", { kind: "http" });
  assert.equal(error.message, 'Cannot push "x": a b c');
});
