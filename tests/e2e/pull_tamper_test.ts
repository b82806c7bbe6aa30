/**
 * Tampered local images are refused: `oci:` and `oci-archive:` verify every
 * blob (manifest, config, layers) against its digest and every layer
 * against its diff_id; `docker-archive:` has no blob digests, so each layer
 * is checked against the config's diff_id. Each tampering keeps sizes and
 * the tar format intact, so only the digest check can see it: a layer
 * re-compressed with another gzip header is the same tar under another
 * digest. An untampered control pull of the same files must succeed, so a
 * refusal is the tampering's doing.
 *
 * Each refusal is one clear line, exit 1, no entry and no staging leftover.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import {
  buildImage,
  type BuiltImage,
  dockerArchiveEntries,
  ociLayoutFiles,
  sha256Digest,
} from "../helpers/oci_image.ts";
import {
  assertFailed,
  assertPulled,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";
import { tarBytes, type TarEntry } from "../helpers/tar_writer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function image(): Promise<BuiltImage> {
  return buildImage({
    layers: [{
      compression: "gzip",
      entries: [
        { name: "etc/", type: "dir" },
        { name: "etc/hello", content: "hello, untampered\n" },
      ],
    }],
    config: { Env: ["PATH=/bin", "GREETING=hi"] },
    annotations: { note: "original" },
  });
}

/** `image` with its config edited, every digest recomputed to match. */
async function withConfig(
  image: BuiltImage,
  edit: (config: BuiltImage["config"]) => void,
): Promise<BuiltImage> {
  const config = structuredClone(image.config);
  edit(config);
  const configBytes = encoder.encode(JSON.stringify(config));
  const configDescriptor = {
    ...image.configDescriptor,
    digest: await sha256Digest(configBytes),
    size: configBytes.length,
  };
  const manifest = { ...image.manifest, config: configDescriptor };
  const manifestBytes = encoder.encode(JSON.stringify(manifest));
  const blobs = new Map(image.blobs);
  blobs.delete(image.configDescriptor.digest);
  blobs.set(configDescriptor.digest, configBytes);
  return {
    ...image,
    config,
    configBytes,
    configDescriptor,
    manifest,
    manifestBytes,
    bytes: manifestBytes,
    digest: await sha256Digest(manifestBytes),
    blobs,
  };
}

/** A wrong diff_id of the same form: the last hex digit changed. */
function otherDigest(digest: string): string {
  const last = digest.at(-1) === "0" ? "1" : "0";
  return digest.slice(0, -1) + last;
}

/** `bytes` with `from` replaced by `to` (same length) once; throws if absent. */
function replaced(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const text = decoder.decode(bytes);
  assert.ok(text.includes(from), `"${from}" is in the blob`);
  return encoder.encode(text.replace(from, to));
}

/** Layout file name of a blob. */
function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice("sha256:".length)}`;
}

/** One way to tamper with an OCI layout: its files, from the intact ones. */
interface LayoutTamper {
  name: string;
  bad(image: BuiltImage): Promise<Map<string, Uint8Array>>;
}

/** The layout files of `image` under tag v1, with `edit` applied. */
function edited(
  image: BuiltImage,
  edit: (files: Map<string, Uint8Array>) => void,
): Promise<Map<string, Uint8Array>> {
  const files = ociLayoutFiles(image, "v1");
  edit(files);
  return Promise.resolve(files);
}

const LAYOUT_TAMPERS: LayoutTamper[] = [
  {
    name: "a layer re-compressed: same tar and size, another digest",
    bad: (image) =>
      edited(image, (files) => {
        const path = blobPath(image.layers[0]!.descriptor.digest);
        const blob = new Uint8Array(files.get(path)!);
        assert.deepEqual([...blob.subarray(0, 2)], [0x1f, 0x8b], "gzip");
        blob[4] = (blob[4]! + 1) & 0xff; // MTIME: not part of the tar
        files.set(path, blob);
      }),
  },
  {
    name: "the config changed in place",
    bad: (image) =>
      edited(image, (files) => {
        const path = blobPath(image.configDescriptor.digest);
        const blob = files.get(path)!;
        files.set(path, replaced(blob, "GREETING=hi", "GREETING=ho"));
      }),
  },
  {
    name: "the manifest changed in place",
    bad: (image) =>
      edited(image, (files) => {
        const path = blobPath(image.digest);
        files.set(path, replaced(files.get(path)!, "original", "tampered"));
      }),
  },
  {
    name: "a layer that is not its diff_id (digests all consistent)",
    bad: async (image) =>
      ociLayoutFiles(
        await withConfig(image, (config) => {
          config.rootfs!.diff_ids = config.rootfs!.diff_ids.map(otherDigest);
        }),
        "v1",
      ),
  },
];

function layoutTar(files: Map<string, Uint8Array>): Uint8Array {
  const entries: TarEntry[] = [
    { name: "blobs/", type: "dir" },
    { name: "blobs/sha256/", type: "dir" },
  ];
  for (const [name, content] of files) entries.push({ name, content });
  return tarBytes(entries);
}

async function writeLayout(dir: string, files: Map<string, Uint8Array>) {
  await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
  for (const [path, bytes] of files) {
    await Deno.writeFile(`${dir}/${path}`, bytes);
  }
}

async function pull(files: TempStore, image: string) {
  return await runPolythene(["pull", "-q", "--store", files.store, image]);
}

/** Pulls `control`, then `tampered`: only the first may work. */
async function refusedButControlPulls(
  files: TempStore,
  control: string,
  tampered: string,
) {
  const uuid = assertPulled(await pull(files, control));
  assert.equal(
    await Deno.readTextFile(`${files.store}/${uuid}/etc/hello`),
    "hello, untampered\n",
  );
  await assertFailed(await pull(files, tampered), {
    store: files.store,
    image: tampered,
    before: [uuid],
    matches: /does not match its (digest|diff_id)/,
  });
}

for (const form of ["oci", "oci-archive"] as const) {
  for (const tamper of LAYOUT_TAMPERS) {
    Deno.test(`pull tamper: ${form}: ${tamper.name}`, async () => {
      await using files = await tempStore();
      const built = await image();
      const good = ociLayoutFiles(built, "v1");
      const bad = await tamper.bad(built);
      const where = (name: string) => `${files.dir}/${name}`;
      if (form === "oci") {
        await writeLayout(where("good"), good);
        await writeLayout(where("bad"), bad);
      } else {
        await Deno.writeFile(where("good"), layoutTar(good));
        await Deno.writeFile(where("bad"), layoutTar(bad));
      }
      await refusedButControlPulls(
        files,
        `${form}:${where("good")}:v1`,
        `${form}:${where("bad")}:v1`,
      );
    });
  }
}

Deno.test("pull tamper: docker-archive: a layer changed in place", async () => {
  await using files = await tempStore();
  const built = await image();
  const good = dockerArchiveEntries(built, ["test/tamper:1"]);
  const bad = good.map((entry) =>
    entry.name.endsWith(".tar") && entry.content instanceof Uint8Array
      ? {
        ...entry,
        content: replaced(entry.content, "untampered", "tampered!!"),
      }
      : entry
  );
  await Deno.writeFile(`${files.dir}/good.tar`, tarBytes(good));
  await Deno.writeFile(`${files.dir}/bad.tar`, tarBytes(bad));
  await refusedButControlPulls(
    files,
    `docker-archive:${files.dir}/good.tar`,
    `docker-archive:${files.dir}/bad.tar`,
  );
});

Deno.test("pull tamper: docker-archive: the config's diff_id changed", async () => {
  await using files = await tempStore();
  const built = await image();
  const good = dockerArchiveEntries(built, ["test/tamper:1"]);
  const diffId = built.layers[0]!.diffId;
  const bad = good.map((entry) =>
    entry.name.endsWith(".json") && entry.name !== "manifest.json"
      ? {
        ...entry,
        content: replaced(
          entry.content as Uint8Array,
          diffId,
          otherDigest(diffId),
        ),
      }
      : entry
  );
  await Deno.writeFile(`${files.dir}/good.tar`, tarBytes(good));
  await Deno.writeFile(`${files.dir}/bad.tar`, tarBytes(bad));
  await refusedButControlPulls(
    files,
    `docker-archive:${files.dir}/good.tar`,
    `docker-archive:${files.dir}/bad.tar`,
  );
});
