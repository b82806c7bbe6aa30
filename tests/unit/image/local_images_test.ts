import assert from "node:assert/strict";
import {
  addLocalImage,
  blobPath,
  ENTRY_ANNOTATION,
  findImage,
  LocalImageNotFoundError,
  REF_ANNOTATION,
  resolveLocalImage,
  withImage,
  writeBlob,
} from "../../../src/image/local_images.ts";

const UUID_A = "0190a0b0-0000-7000-8000-00000000000a";
const UUID_B = "0190a0b0-0000-7000-8000-00000000000b";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function inStore(fn: (store: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-local-images-" });
  try {
    await fn(`${dir}/store`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function descriptor(digit: string, annotations: Record<string, string>) {
  return {
    mediaType: MANIFEST,
    digest: `sha256:${digit.repeat(64)}`,
    size: 1,
    annotations,
  };
}

Deno.test("findImage: a UUID names the newest commit of that entry", () => {
  const list = [
    descriptor("1", { [ENTRY_ANNOTATION]: UUID_A }),
    descriptor("2", { [ENTRY_ANNOTATION]: UUID_B }),
    descriptor("3", { [ENTRY_ANNOTATION]: UUID_A }),
  ];
  assert.equal(findImage(list, UUID_A), 2);
  assert.equal(findImage(list, UUID_B), 1);
  assert.equal(findImage(list, "0190a0b0-0000-7000-8000-0000000000ff"), -1);
});

Deno.test("findImage: a REF matches as pull normalises it", () => {
  const list = [
    descriptor("1", {
      [REF_ANNOTATION]: "docker.io/library/alpine:latest",
    }),
    descriptor("2", { [REF_ANNOTATION]: "127.0.0.1:5000/team/app:v1" }),
  ];
  assert.equal(findImage(list, "alpine"), 0);
  assert.equal(findImage(list, "docker.io/library/alpine:latest"), 0);
  assert.equal(findImage(list, "127.0.0.1:5000/team/app:v1"), 1);
  assert.equal(findImage(list, "127.0.0.1:5000/team/app"), -1);
  assert.equal(findImage(list, `sha256:${"2".repeat(64)}`), 1);
});

Deno.test("withImage moves a REF to the new manifest", () => {
  const ref = "docker.io/library/app:latest";
  const list = [
    descriptor("1", { [REF_ANNOTATION]: ref, [ENTRY_ANNOTATION]: UUID_A }),
    descriptor("2", { [REF_ANNOTATION]: ref }),
  ];
  const next = withImage(list, descriptor("3", { [REF_ANNOTATION]: ref }));
  assert.deepEqual(next.map((d) => d.digest[7]), ["1", "3"]);
  assert.deepEqual(next[0]?.annotations, { [ENTRY_ANNOTATION]: UUID_A });
});

Deno.test("writeBlob, addLocalImage and resolveLocalImage round-trip a private layout", async () => {
  await inStore(async (store) => {
    const manifest = new TextEncoder().encode('{"schemaVersion":2}');
    const blob = await writeBlob(store, manifest);
    assert.equal(blob.size, manifest.length);
    const layout = `${store}/.polythene/images`;
    assert.deepEqual(
      await Deno.readFile(blobPath(layout, blob.digest)),
      manifest,
    );
    const streamed = await writeBlob(
      store,
      new Blob([manifest as BlobPart]).stream(),
    );
    assert.deepEqual(streamed, blob);
    await addLocalImage(store, {
      manifest: { mediaType: MANIFEST, ...blob },
      ref: "example.com/team/app:v1",
      entry: UUID_A,
      base: "example.com/base:1",
    });
    const image = await resolveLocalImage(store, UUID_A);
    assert.deepEqual(image, {
      layout,
      manifest: { mediaType: MANIFEST, ...blob },
      ref: "example.com/team/app:v1",
      entry: UUID_A,
      base: "example.com/base:1",
    });
    assert.deepEqual(
      await resolveLocalImage(store, "example.com/team/app:v1"),
      image,
    );
    const oci = JSON.parse(await Deno.readTextFile(`${layout}/oci-layout`));
    assert.equal(oci.imageLayoutVersion, "1.0.0");
    for (const path of [layout, `${layout}/index.json`, `${layout}/blobs`]) {
      assert.equal(
        (await Deno.stat(path)).mode! & 0o077,
        0,
        `${path} is private`,
      );
    }
    const names = [];
    for await (const e of Deno.readDir(`${layout}/blobs/sha256`)) {
      names.push(e.name);
    }
    assert.deepEqual(names, [blob.digest.slice(7)], "no temporary left");
  });
});

Deno.test("resolveLocalImage: nothing committed is a LocalImageNotFoundError", async () => {
  await inStore(async (store) => {
    await assert.rejects(
      resolveLocalImage(store, UUID_A),
      LocalImageNotFoundError,
    );
    await writeBlob(store, new Uint8Array([1]));
    await assert.rejects(
      resolveLocalImage(store, "nothing:here"),
      (error: Error) =>
        error instanceof LocalImageNotFoundError &&
        error.message.includes('"nothing:here"') && error.exitCode === 1,
    );
  });
});

Deno.test("addLocalImage keeps every commit made in parallel", async () => {
  await inStore(async (store) => {
    const blobs = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => writeBlob(store, new Uint8Array([n]))),
    );
    await Promise.all(blobs.map((blob, n) =>
      addLocalImage(store, {
        manifest: { mediaType: MANIFEST, ...blob },
        ref: `app:${n}`,
      })
    ));
    for (const [n, blob] of blobs.entries()) {
      const image = await resolveLocalImage(store, `app:${n}`);
      assert.equal(image.manifest.digest, blob.digest);
    }
  });
});
