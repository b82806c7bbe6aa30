import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import { parseImageSource } from "../../../src/image/source.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("registry references, with or without docker://", () => {
  assertEquals(parseImageSource("busybox"), {
    kind: "registry",
    reference: {
      registry: "docker.io",
      repository: "library/busybox",
      tag: "latest",
    },
  });
  assertEquals(parseImageSource("docker://localhost:5000/x:1"), {
    kind: "registry",
    reference: { registry: "localhost:5000", repository: "x", tag: "1" },
  });
  // A host:port is not mistaken for a transport.
  assertEquals(parseImageSource("127.0.0.1:5000/ns/img").kind, "registry");
});

Deno.test("oci: and oci-archive: take a path and an optional tag", () => {
  assertEquals(parseImageSource("oci:/tmp/layout"), {
    kind: "oci",
    path: "/tmp/layout",
  });
  assertEquals(parseImageSource("oci:/tmp/layout:v1.0"), {
    kind: "oci",
    path: "/tmp/layout",
    tag: "v1.0",
  });
  assertEquals(parseImageSource("oci:layout:"), {
    kind: "oci",
    path: "layout",
  });
  assertEquals(parseImageSource("oci-archive:/tmp/a.tar:latest"), {
    kind: "oci-archive",
    path: "/tmp/a.tar",
    tag: "latest",
  });
  // skopeo's split: the path ends at the first ":".
  assertEquals(parseImageSource("oci:dir:a:b"), {
    kind: "oci",
    path: "dir",
    tag: "a:b",
  });
});

Deno.test("docker-archive: takes a path and an optional reference or @index", () => {
  assertEquals(parseImageSource("docker-archive:/tmp/save.tar"), {
    kind: "docker-archive",
    path: "/tmp/save.tar",
  });
  assertEquals(parseImageSource("docker-archive:/tmp/save.tar:busybox:1"), {
    kind: "docker-archive",
    path: "/tmp/save.tar",
    reference: "busybox:1",
  });
  assertEquals(parseImageSource("docker-archive:save.tar:@2"), {
    kind: "docker-archive",
    path: "save.tar",
    index: 2,
  });
});

Deno.test("containers-storage: keeps the name for podman", () => {
  assertEquals(parseImageSource("containers-storage:localhost/x:1"), {
    kind: "containers-storage",
    reference: "localhost/x:1",
  });
});

Deno.test("malformed sources are usage errors naming the input", () => {
  const cases: [string, string][] = [
    ["oci:", "needs a path"],
    ["oci::tag", "needs a path"],
    ["oci-archive:", "needs a path"],
    ["docker-archive:", "needs a path"],
    ["docker-archive:f.tar:@x", "image index"],
    ["docker-archive:f.tar:@-1", "image index"],
    ["docker-archive:f.tar:Bad/Ref", "must be lowercase"],
    ["oci:dir:tag with space", "printable ASCII"],
    ["containers-storage:", "needs an image"],
    ["containers-storage:--help", "must not start with '-'"],
    ["dir:/tmp/x", 'the "dir:" transport is not supported'],
    ["docker-daemon:busybox:latest", "not supported"],
    ["Not/Valid", "must be lowercase"],
  ];
  for (const [input, why] of cases) {
    const error = assertThrows(() => parseImageSource(input), UsageError);
    assertEquals(error.exitCode, 2);
    assertIncludes(error.message, why, input);
    assertIncludes(error.message, "Invalid image", input);
  }
});
