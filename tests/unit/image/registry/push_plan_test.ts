import assert from "node:assert/strict";
import {
  chunksOf,
  contentRange,
  documentNeeds,
  mountSource,
  pushScopes,
  uniqueByDigest,
  uploadedBytes,
  uploadUrl,
} from "../../../../src/image/registry/push_plan.ts";
import { parseReference } from "../../../../src/image/reference.ts";

const D = (n: number) => ({
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
});

Deno.test("documentNeeds: a manifest needs its config, then its layers in order", () => {
  const config = {
    ...D(1),
    mediaType: "application/vnd.oci.image.config.v1+json",
  };
  const needs = documentNeeds("manifest", { config, layers: [D(2), D(3)] });
  assert.deepEqual(needs, { blobs: [config, D(2), D(3)] });
});

Deno.test("documentNeeds: an index needs its child manifests", () => {
  assert.deepEqual(documentNeeds("index", { manifests: [D(4)] }), {
    manifests: [D(4)],
  });
});

Deno.test("documentNeeds: malformed documents name the field", () => {
  assert.throws(() => documentNeeds("manifest", { config: D(1) }), /"layers"/);
  assert.throws(
    () => documentNeeds("manifest", { config: D(1), layers: [{ digest: 1 }] }),
    /"layers" item 0/,
  );
  assert.throws(
    () =>
      documentNeeds("manifest", { config: { ...D(1), size: -1 }, layers: [] }),
    /"config" item 0/,
  );
  assert.throws(() => documentNeeds("index", null), /not a JSON object/);
});

Deno.test("uniqueByDigest keeps the first of each digest", () => {
  assert.deepEqual(uniqueByDigest([D(1), D(2), D(1)]), [D(1), D(2)]);
});

Deno.test("pushScopes: pull,push on the destination, pull on the mount source", () => {
  assert.deepEqual(pushScopes("me/app"), ["repository:me/app:pull,push"]);
  assert.deepEqual(pushScopes("me/app", "library/debian"), [
    "repository:me/app:pull,push",
    "repository:library/debian:pull",
  ]);
  assert.deepEqual(pushScopes("me/app", "me/app"), [
    "repository:me/app:pull,push",
  ]);
});

Deno.test("mountSource: only another repository of the same registry", () => {
  const dest = parseReference("ghcr.io/me/app:1");
  assert.equal(
    mountSource(dest, parseReference("ghcr.io/me/base:1")),
    "me/base",
  );
  assert.equal(
    mountSource(dest, parseReference("docker.io/library/debian")),
    undefined,
  );
  assert.equal(
    mountSource(dest, parseReference("ghcr.io/me/app:0")),
    undefined,
  );
  assert.equal(mountSource(dest, undefined), undefined);
});

Deno.test("chunksOf cuts [from, size) into chunks", () => {
  assert.deepEqual(chunksOf(10, 0, 4), [
    { start: 0, end: 4 },
    { start: 4, end: 8 },
    { start: 8, end: 10 },
  ]);
  assert.deepEqual(chunksOf(10, 6, 4), [{ start: 6, end: 10 }]);
  assert.deepEqual(chunksOf(10, 10, 4), []);
  assert.throws(() => chunksOf(10, 0, 0), RangeError);
  assert.equal(contentRange({ start: 4, end: 8 }), "4-7");
});

Deno.test("uploadedBytes reads the upload's Range", () => {
  assert.equal(uploadedBytes("0-65535"), 65536);
  assert.equal(uploadedBytes("bytes=0-9"), 10);
  assert.equal(uploadedBytes("0--1"), 0);
  assert.equal(uploadedBytes(null), 0);
  assert.equal(uploadedBytes("5-9"), undefined);
  assert.equal(uploadedBytes("junk"), undefined);
});

Deno.test("uploadUrl resolves the Location and sets the digest", () => {
  const base = new URL("https://r.example/");
  const url = uploadUrl("/v2/a/blobs/uploads/u?_state=s", base, "sha256:ab");
  assert.equal(
    url.href,
    "https://r.example/v2/a/blobs/uploads/u?_state=s&digest=sha256%3Aab",
  );
  assert.throws(() => uploadUrl(null, base), /no upload Location/);
});
