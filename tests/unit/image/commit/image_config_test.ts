import assert from "node:assert/strict";
import { UsageError } from "../../../../src/errors.ts";
import {
  commitConfig,
  imageManifest,
  parseChange,
} from "../../../../src/image/commit/image_config.ts";

Deno.test("parseChange takes ENV and WORKDIR, with = or a space", () => {
  assert.deepEqual(parseChange("ENV=A=b=c"), {
    kind: "env",
    name: "A",
    value: "b=c",
  });
  assert.deepEqual(parseChange("ENV B=1"), {
    kind: "env",
    name: "B",
    value: "1",
  });
  assert.deepEqual(parseChange("WORKDIR=/srv"), {
    kind: "workdir",
    path: "/srv",
  });
  for (const bad of ["CMD=x", "WORKDIR=rel", "ENV=1A=x", "env=A=b"]) {
    assert.throws(() => parseChange(bad), UsageError, bad);
  }
});

Deno.test("commitConfig keeps the base's config and history and adds the commit", () => {
  const config = commitConfig(
    {
      config: {
        architecture: "arm64",
        os: "linux",
        author: "someone",
        config: { Env: ["PATH=/bin", "A=1"], WorkingDir: "/", User: "app" },
        rootfs: { type: "layers", diff_ids: ["sha256:a"] },
        history: [{ created_by: "base" }],
      },
    },
    {
      changes: [
        { kind: "env", name: "A", value: "2" },
        { kind: "workdir", path: "/srv" },
      ],
      message: "provisioned",
      diffId: "sha256:b",
      created: "2026-01-01T00:00:00Z",
      uuid: "u",
    },
  );
  assert.equal(config.author, "someone");
  assert.equal(config.architecture, "arm64");
  assert.deepEqual(config.config, {
    Env: ["PATH=/bin", "A=2"],
    WorkingDir: "/srv",
    User: "app",
  });
  assert.deepEqual(config.rootfs, {
    type: "layers",
    diff_ids: ["sha256:a", "sha256:b"],
  });
  assert.deepEqual(config.history, [{ created_by: "base" }, {
    created: "2026-01-01T00:00:00Z",
    created_by: "polythene commit u",
    comment: "provisioned",
  }]);
});

Deno.test("commitConfig without a base config uses the recorded runtime config", () => {
  const config = commitConfig(
    {
      runtime: { Env: ["X=1"] },
      platform: { os: "linux", architecture: "amd64" },
    },
    { changes: [], diffId: "sha256:c", created: "t", uuid: "u" },
  );
  assert.deepEqual(config.config, { Env: ["X=1"] });
  assert.deepEqual((config.rootfs as { diff_ids: string[] }).diff_ids, [
    "sha256:c",
  ]);
  assert.equal((config.history as unknown[]).length, 1);
});

Deno.test("imageManifest gives Docker layer types their OCI names", () => {
  const manifest = imageManifest(
    { mediaType: "", digest: "sha256:c", size: 1 },
    [{
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      digest: "sha256:l",
      size: 2,
    }],
  ) as { layers: { mediaType: string }[]; config: { mediaType: string } };
  assert.equal(
    manifest.layers[0]!.mediaType,
    "application/vnd.oci.image.layer.v1.tar+gzip",
  );
  assert.equal(
    manifest.config.mediaType,
    "application/vnd.oci.image.config.v1+json",
  );
});
