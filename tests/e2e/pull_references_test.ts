/**
 * `polythene pull` through the real CLI, choosing and refusing: a
 * multi-arch index (amd64, arm64/v8 and buildx `unknown/unknown`
 * attestations) gives this host's image by default and `--platform`'s on
 * request, and lists the platforms that exist when none matches; malformed
 * references, unsupported transports, encrypted or unknown layer types and
 * missing `oci:`, `oci-archive:` and `docker-archive:` paths fail with one
 * clear line naming the image and leave no entry.
 *
 * Needs docker-registry; under `CI=true` a missing one fails instead of
 * skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import {
  buildImage,
  buildIndex,
  MEDIA_TYPES,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import {
  pushImage,
  type Registry,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertEntry,
  assertFailed,
  assertPulled,
  entries,
  explain,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";

/** A small image whose only file says which platform it is. */
function archImage(
  architecture: string,
  variant?: string,
  format: "oci" | "docker" = "oci",
) {
  return buildImage({
    layers: [{
      compression: "gzip",
      entries: [{ name: "arch", content: `${architecture}\n` }],
    }],
    platform: { os: "linux", architecture, ...(variant ? { variant } : {}) },
    format,
  });
}

testNeeding(
  registryMissing(),
  "pull: platforms and refusals, one registry",
  async (t) => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    await t.step(
      "a multi-arch index picks the host or --platform",
      (t) => multiArch(t, registry, files),
    );
    await t.step(
      "bad references and sources fail with one clear line",
      (t) => refusals(t, registry, files),
    );
  },
);

async function multiArch(
  t: Deno.TestContext,
  registry: Registry,
  files: TempStore,
): Promise<void> {
  const amd64 = await archImage("amd64");
  const arm64 = await archImage("arm64", "v8");
  const index = await buildIndex([amd64, arm64]); // + unknown/unknown
  assert.ok(index.manifest.manifests.some((m) => m.platform?.os === "unknown"));
  await pushImage(registry, "test/multi", "1", index);
  await pushImage(registry, "test/multi", "latest", index);
  const image = `${registry.host}/test/multi:1`;
  const store = files.store;

  const pullArch = async (args: string[], arch: string, ref = image) => {
    const uuid = assertPulled(
      await runPolythene(["pull", "-q", "--store", store, ...args, ref]),
    );
    assert.equal(await Deno.readTextFile(`${store}/${uuid}/arch`), arch);
    return uuid;
  };

  await t.step("the default is this host (linux/amd64)", async () => {
    const uuid = await pullArch([], "amd64\n");
    await assertEntry(store, uuid, {
      image,
      digest: amd64.digest,
      platform: { os: "linux", architecture: "amd64" },
    });
  });

  await t.step("docker://HOST/REPO is normalised to :latest", async () => {
    const ref = `docker://${registry.host}/test/multi`;
    const uuid = await pullArch([], "amd64\n", ref);
    const meta = await assertEntry(store, uuid, { image: ref });
    assert.equal(meta.normalized, `${registry.host}/test/multi:latest`);
  });

  await t.step("--platform linux/arm64 picks arm64/v8", async () => {
    const uuid = await pullArch(["--platform", "linux/arm64"], "arm64\n");
    await assertEntry(store, uuid, {
      image,
      digest: arm64.digest,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
  });

  await t.step("a Docker manifest list, --platform linux/arm64", async () => {
    const list = await buildIndex([
      await archImage("amd64", undefined, "docker"),
      await archImage("arm64", "v8", "docker"),
    ]);
    assert.equal(list.mediaType, MEDIA_TYPES.dockerList);
    await pushImage(registry, "test/list", "1", list);
    const ref = `${registry.host}/test/list:1`;
    const uuid = await pullArch(["--platform", "linux/arm64"], "arm64\n", ref);
    await assertEntry(store, uuid, {
      image: ref,
      digest: list.images[1]!.digest,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
  });

  await t.step("an absent platform lists those that exist", async () => {
    const before = await entries(store);
    const result = await runPolythene(
      ["pull", "--store", store, "--platform", "linux/s390x", image],
    );
    await assertFailed(result, { store, image, before });
    assert.match(result.stderr, /linux\/s390x/, explain(result));
    assert.match(result.stderr, /linux\/amd64/, explain(result));
    assert.match(result.stderr, /linux\/arm64\/v8/, explain(result));
  });
}

async function refusals(
  t: Deno.TestContext,
  registry: Registry,
  files: TempStore,
): Promise<void> {
  const store = files.store;
  const fails = async (image: string, code = 1, matches?: RegExp) => {
    const before = await entries(store);
    const result = await runPolythene(["pull", "--store", store, image]);
    await assertFailed(result, { store, image, code, before, matches });
  };
  await t.step("an upper-case repository name is a usage error", async () => {
    // Refused before any network: nothing listens on localhost:5000.
    await fails("localhost:5000/UPPER/case:1", 2, /must be lowercase/);
  });
  await t.step("an unsupported transport is a usage error", async () => {
    await fails("dir:/tmp/x", 2, /not supported/);
  });
  const refused = [
    ["encrypted", "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"],
    ["unknown", "application/x-polythene-unknown"],
  ] as const;
  for (const [what, mediaType] of refused) {
    await t.step(`an ${what} layer is refused`, async () => {
      const built = await buildImage({
        layers: [{ compression: "gzip", entries: [{ name: "x" }], mediaType }],
      });
      await pushImage(registry, `test/${what}`, "1", built);
      const dir = `${files.dir}/refused-${what}`;
      await writeOciLayout(dir, built, "v1");
      const why = what === "encrypted" ? /encrypted/ : /media type/;
      await fails(`${registry.host}/test/${what}:1`, 1, why);
      await fails(`oci:${dir}:v1`, 1, why);
    });
  }
  await t.step("a store that cannot be made fails clearly", async () => {
    const file = `${files.dir}/a-file`;
    await Deno.writeTextFile(file, "");
    const image = `${registry.host}/test/multi:1`;
    const result = await runPolythene(
      ["pull", "--store", `${file}/store`, image],
    );
    await assertFailed(result, {
      store: `${file}/store`,
      image,
      matches: /store/,
    });
  });
  for (const form of ["oci:", "oci-archive:", "docker-archive:"]) {
    await t.step(`${form} of a missing path`, async () => {
      await fails(
        `${form}${files.dir}/no-such${form === "oci:" ? "" : ".tar"}`,
      );
    });
  }
}
