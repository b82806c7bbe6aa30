import { assertEquals } from "../../helpers/assert.ts";
import { imageFactsOf, podmanTlsVerify } from "../../../src/image/podman.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

Deno.test("podmanTlsVerify turns verification off for loopback only", () => {
  assertEquals(podmanTlsVerify(true, "127.0.0.1:5000"), false);
  assertEquals(podmanTlsVerify(true, "localhost:5000"), false);
  assertEquals(podmanTlsVerify(true, "[::1]:5000"), false);
  assertEquals(podmanTlsVerify(true, "registry.example:5000"), true);
  assertEquals(podmanTlsVerify(true, "128.0.0.1"), true);
  assertEquals(podmanTlsVerify(true, undefined), true);
  assertEquals(podmanTlsVerify(false, "registry.example"), false);
});

Deno.test("imageFactsOf reads config, digest and platform", () => {
  const json = JSON.stringify([{
    Digest: DIGEST,
    Os: "linux",
    Architecture: "arm64",
    Variant: "v8",
    Config: {
      Env: ["PATH=/bin", "A=b"],
      WorkingDir: "/srv",
      User: "1000:1000",
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["echo hi"],
      Labels: { role: "test" },
      ExposedPorts: { "80/tcp": {} },
    },
  }]);
  assertEquals(imageFactsOf(json), {
    config: {
      Env: ["PATH=/bin", "A=b"],
      WorkingDir: "/srv",
      User: "1000:1000",
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["echo hi"],
      Labels: { role: "test" },
    },
    digest: DIGEST,
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  });
});

Deno.test("imageFactsOf leaves out values of the wrong type", () => {
  const json = JSON.stringify([{
    Digest: "sha256:short",
    Os: "linux",
    Architecture: 7,
    Config: { Env: "PATH=/bin", Cmd: [1], Labels: { a: 1 }, WorkingDir: "" },
  }]);
  assertEquals(imageFactsOf(json), {});
  assertEquals(imageFactsOf("not json"), {});
  assertEquals(imageFactsOf("[]"), {});
});
