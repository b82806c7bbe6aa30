import assert from "node:assert/strict";
import { baseRecord } from "../../../src/image/base_record.ts";
import type { ImageLayer, SourceImage } from "../../../src/image/reader.ts";

const layer = (digest?: string, size?: number): ImageLayer => ({
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  digest,
  size,
  diffId: "sha256:d",
  open: () => Promise.reject(new Error("not opened")),
});

Deno.test("baseRecord keeps the config digest and every layer blob, in order", () => {
  const image: SourceImage = {
    configDigest: "sha256:c",
    config: {},
    layers: [layer("sha256:a", 1), layer("sha256:b", 2)],
  };
  assert.deepEqual(baseRecord(image), {
    config: "sha256:c",
    layers: [
      { mediaType: layer().mediaType, digest: "sha256:a", size: 1 },
      { mediaType: layer().mediaType, digest: "sha256:b", size: 2 },
    ],
  });
});

Deno.test("baseRecord: no record when a digest or size is unknown", () => {
  assert.equal(baseRecord(undefined), undefined);
  assert.equal(
    baseRecord({ config: {}, layers: [layer("sha256:a", 1)] }),
    undefined,
  );
  assert.equal(
    baseRecord({ configDigest: "sha256:c", config: {}, layers: [layer()] }),
    undefined,
  );
});
