import { assertEquals } from "../../helpers/assert.ts";
import { fallsThroughToPodman } from "../../../src/image/native_pull.ts";
import {
  RegistryError,
  type RegistryErrorKind,
} from "../../../src/image/registry/mod.ts";

const failure = (kind: RegistryErrorKind) =>
  new RegistryError("r.example/x:1", "detail", { kind });

Deno.test("--puller auto falls through only when nothing could be reached", () => {
  assertEquals(fallsThroughToPodman("auto", failure("network"), false), true);
  const never: RegistryErrorKind[] = [
    "tls",
    "unauthorized",
    "denied",
    "not-found",
    "digest",
    "size",
    "insecure",
    "redirect",
    "server",
    "platform",
  ];
  for (const kind of never) {
    assertEquals(
      fallsThroughToPodman("auto", failure(kind), false),
      false,
      kind,
    );
  }
});

Deno.test("not without auto, not when interrupted, not for other errors", () => {
  assertEquals(
    fallsThroughToPodman("native", failure("network"), false),
    false,
  );
  assertEquals(fallsThroughToPodman("auto", failure("network"), true), false);
  assertEquals(
    fallsThroughToPodman("auto", new Error("network"), false),
    false,
  );
});
