import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import {
  isImageConfig,
  layerCompression,
  MANIFEST_ACCEPT,
  manifestKind,
  MediaType,
  UnsupportedLayerError,
} from "../../../src/image/media_types.ts";

Deno.test("manifest kinds: schema 2 and OCI accepted, schema 1 recognised", () => {
  assertEquals(manifestKind(MediaType.OciManifest), "manifest");
  assertEquals(manifestKind(MediaType.DockerManifest), "manifest");
  assertEquals(manifestKind(MediaType.OciIndex), "index");
  assertEquals(
    manifestKind(`${MediaType.DockerManifestList}; charset=utf-8`),
    "index",
  );
  assertEquals(manifestKind(MediaType.DockerSchema1Signed), "schema1");
  assertEquals(manifestKind("application/json"), undefined);
  assertEquals(MANIFEST_ACCEPT.includes("v1+prettyjws"), false);
  assertEquals(MANIFEST_ACCEPT.split(", ").length, 4);
});

Deno.test("layer compression by media type", () => {
  assertEquals(layerCompression(MediaType.OciLayerGzip), "gzip");
  assertEquals(layerCompression(MediaType.DockerLayerGzip), "gzip");
  assertEquals(layerCompression(MediaType.DockerLayerForeignGzip), "gzip");
  assertEquals(layerCompression(MediaType.OciLayerZstd), "zstd");
  assertEquals(layerCompression(MediaType.DockerLayerZstd), "zstd");
  assertEquals(layerCompression(MediaType.OciLayer), "none");
  assertEquals(layerCompression(MediaType.DockerLayer), "none");
});

Deno.test("encrypted and unknown layers are refused", () => {
  const encrypted = assertThrows(
    () =>
      layerCompression("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"),
    UnsupportedLayerError,
  );
  assertIncludes(encrypted.message, "is encrypted");
  const unknown = assertThrows(
    () => layerCompression("application/vnd.in-toto+json"),
    UnsupportedLayerError,
  );
  assertIncludes(unknown.message, "is not a supported tar layer");
});

Deno.test("image configs", () => {
  assertEquals(isImageConfig(MediaType.OciConfig), true);
  assertEquals(isImageConfig(MediaType.DockerConfig), true);
  assertEquals(
    isImageConfig("application/vnd.cncf.helm.config.v1+json"),
    false,
  );
});
