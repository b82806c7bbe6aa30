import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import {
  formatPlatform,
  hostPlatform,
  NoMatchingPlatformError,
  parsePlatform,
  platformMatches,
  recordedPlatformProblem,
  selectManifest,
} from "../../../src/image/platform.ts";
import type { Descriptor, Platform } from "../../../src/image/types.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("hostPlatform maps Deno's arch to OCI's", () => {
  assertEquals(hostPlatform({ os: "linux", arch: "x86_64" }), {
    os: "linux",
    architecture: "amd64",
  });
  assertEquals(hostPlatform({ os: "linux", arch: "aarch64" }), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
  assertEquals(hostPlatform().os, Deno.build.os);
});

Deno.test("parsePlatform reads OS/ARCH[/VARIANT], normalised", () => {
  const cases: [string, Platform][] = [
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/x86_64", { os: "linux", architecture: "amd64" }],
    ["linux/amd64/v1", { os: "linux", architecture: "amd64" }],
    ["linux/amd64/v3", { os: "linux", architecture: "amd64", variant: "v3" }],
    ["linux/arm64", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/aarch64", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm64/8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/arm/v6", { os: "linux", architecture: "arm", variant: "v6" }],
    ["linux/armhf", { os: "linux", architecture: "arm", variant: "v7" }],
    ["Linux/386", { os: "linux", architecture: "386" }],
  ];
  for (const [text, expected] of cases) {
    assertEquals(parsePlatform(text), expected, text);
  }
  for (
    const bad of ["linux", "", "linux/", "/amd64", "a/b/c/d", "linux/am d"]
  ) {
    const error = assertThrows(() => parsePlatform(bad), UsageError);
    assertIncludes(error.message, `Invalid platform "${bad}"`);
  }
});

Deno.test("formatPlatform", () => {
  assertEquals(
    formatPlatform({ os: "linux", architecture: "amd64" }),
    "linux/amd64",
  );
  assertEquals(
    formatPlatform({ os: "linux", architecture: "arm64", variant: "v8" }),
    "linux/arm64/v8",
  );
});

Deno.test("arm64 without a variant is arm64/v8", () => {
  assertEquals(
    platformMatches(
      { os: "linux", architecture: "arm64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ),
    true,
  );
  assertEquals(
    platformMatches(
      { os: "linux", architecture: "arm", variant: "v6" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ),
    false,
  );
});

const entry = (
  name: string,
  platform: Platform,
  annotations?: Record<string, string>,
): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${name.padEnd(64, "0")}`,
  size: 100,
  platform,
  ...(annotations ? { annotations } : {}),
});

const INDEX = {
  manifests: [
    entry("a", { os: "unknown", architecture: "unknown" }),
    entry("b", { os: "linux", architecture: "amd64" }),
    entry("c", { os: "linux", architecture: "arm", variant: "v7" }),
    entry("d", { os: "linux", architecture: "arm64", variant: "v8" }),
    entry("e", { os: "linux", architecture: "arm", variant: "v6" }),
    entry("f", { os: "linux", architecture: "amd64" }, {
      "vnd.docker.reference.type": "attestation-manifest",
    }),
  ],
};

Deno.test("selectManifest honours the variant and skips attestations", () => {
  const pick = (p: Platform) => selectManifest(INDEX, p).digest[7];
  assertEquals(pick({ os: "linux", architecture: "amd64" }), "b");
  assertEquals(pick({ os: "linux", architecture: "arm64" }), "d");
  assertEquals(
    pick({ os: "linux", architecture: "arm64", variant: "v8" }),
    "d",
  );
  assertEquals(pick({ os: "linux", architecture: "arm", variant: "v6" }), "e");
  assertEquals(pick({ os: "linux", architecture: "arm" }), "c");
  // An index entry without a variant matches an arm64/v8 host.
  const plain = {
    manifests: [entry("9", { os: "linux", architecture: "arm64" })],
  };
  assertEquals(
    selectManifest(plain, { os: "linux", architecture: "arm64", variant: "v8" })
      .digest[7],
    "9",
  );
});

Deno.test("no match: the error lists the platforms that exist", () => {
  const error = assertThrows(
    () => selectManifest(INDEX, { os: "linux", architecture: "riscv64" }),
    NoMatchingPlatformError,
  );
  assertEquals(
    error.message,
    "no image for linux/riscv64; the index has linux/amd64, linux/arm/v7, linux/arm64/v8, linux/arm/v6",
  );
  assertEquals(error.available.length, 4);
  const empty = assertThrows(
    () =>
      selectManifest({ manifests: [INDEX.manifests[0]!] }, {
        os: "linux",
        architecture: "amd64",
      }),
    NoMatchingPlatformError,
  );
  assertIncludes(empty.message, "the index has no platform images");
});

Deno.test("recordedPlatformProblem: only the architecture asked for is kept", () => {
  const amd64 = { os: "linux", architecture: "amd64" };
  const arm64 = { os: "linux", architecture: "arm64" };
  assertEquals(recordedPlatformProblem(undefined, amd64), undefined);
  assertEquals(
    recordedPlatformProblem({ os: "linux", architecture: "x86_64" }, amd64),
    undefined,
  );
  assertEquals(
    recordedPlatformProblem(
      { os: "linux", architecture: "arm64", variant: "v8" },
      arm64,
    ),
    undefined,
  );
  // The kernel runs i386 on x86_64: no emulation, no other backend.
  assertEquals(
    recordedPlatformProblem({ os: "linux", architecture: "386" }, amd64),
    undefined,
  );
  assertEquals(
    recordedPlatformProblem(arm64, amd64),
    "the image is for linux/arm64/v8, not linux/amd64",
  );
  assertEquals(
    recordedPlatformProblem(amd64, arm64),
    "the image is for linux/amd64, not linux/arm64/v8",
  );
});

Deno.test("recordedPlatformProblem: the image's words are escaped", () => {
  assertEquals(
    recordedPlatformProblem(
      { os: "linux", architecture: "evil\u001b[2J" },
      { os: "linux", architecture: "amd64" },
    ),
    "the image is for linux/evil\\x1b[2j, not linux/amd64",
  );
});
