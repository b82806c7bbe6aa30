/**
 * The blob cache of `polythene pull`, through the real CLI and the fault
 * proxy in front of a real registry: a second pull of the same image
 * downloads no layer blob again and gives the same tree under a new UUID;
 * two pulls of the same image at once both succeed, with different UUIDs,
 * and leave a cache whose every blob matches its digest.
 *
 * Needs docker-registry and zstd; under `CI=true` a missing one fails
 * instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage, type BuiltImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault_proxy.ts";
import {
  assertCacheConsistent,
  assertEntry,
  assertPulled,
  busyboxEntries,
  entries,
  noise,
  snapshot,
  stagingLeftovers,
  tempStore,
} from "../helpers/pull_checks.ts";

const MISSING = registryMissing();

/** Layer blobs (not the config) the proxy served with a GET. */
function layerGets(proxy: FaultProxy, image: BuiltImage): string[] {
  const layers = new Set(image.layers.map((l) => l.descriptor.digest));
  return blobGets(proxy).filter((digest) => layers.has(digest));
}

/** Every blob (layers and config) the proxy served with a GET. */
function blobGets(proxy: FaultProxy): string[] {
  return proxy.requests
    .filter((r) => r.kind === "blob" && r.method === "GET")
    .map((r) => r.path.slice(r.path.lastIndexOf("/") + 1));
}

testNeeding(
  MISSING,
  "pull: the blob cache and concurrent pulls of one image",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const image = await buildImage({
      layers: [
        { compression: "gzip", entries: busyboxEntries() },
        {
          compression: "none",
          entries: [{ name: "data/noise", content: noise(6 << 20) }],
        },
        {
          compression: "gzip",
          entries: [{ name: "etc/", type: "dir" }, {
            name: "etc/hello",
            content: "hello\n",
          }],
        },
      ],
      config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
    });
    await pushImage(registry, "test/cached", "1", image);
    const ref = `${proxy.host}/test/cached:1`;
    const layers = image.layers.map((l) => l.descriptor.digest).sort();
    // The cache keeps the layers and the config.
    const cached = [...layers, image.configDescriptor.digest].sort();
    const pull = (store: string) =>
      runPolythene(["pull", "-q", "--store", store, ref]);

    await t.step("a second pull downloads no blob again", async () => {
      await using files = await tempStore();
      proxy.clear();
      const first = assertPulled(await pull(files.store));
      assert.deepEqual(layerGets(proxy, image).sort(), layers);
      const tree = await snapshot(`${files.store}/${first}`);

      proxy.clear();
      const second = assertPulled(await pull(files.store));
      assert.notEqual(second, first, "a new UUID");
      assert.deepEqual(blobGets(proxy), [], "no blob, not even the config");
      assert.deepEqual(await snapshot(`${files.store}/${second}`), tree);
      await assertEntry(files.store, second, {
        image: ref,
        digest: image.digest,
        config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
      });
      assert.deepEqual(await entries(files.store), [first, second].sort());
      assert.deepEqual(await assertCacheConsistent(files.store), cached);
    });

    await t.step("two pulls at once both succeed", async () => {
      await using files = await tempStore();
      proxy.clear();
      // Hold each blob answer a moment, so both processes miss the cache
      // and write the same blobs into it at the same time.
      proxy.plan({
        hook: async (_request, { kind }) => {
          if (kind === "blob") await new Promise((r) => setTimeout(r, 300));
          return undefined;
        },
      });
      const [a, b] = await Promise.all([pull(files.store), pull(files.store)]);
      proxy.plan({});
      assert.deepEqual(
        layerGets(proxy, image).sort(),
        [...layers, ...layers].sort(),
        "both downloaded every layer",
      );
      const uuidA = assertPulled(a);
      const uuidB = assertPulled(b);
      assert.notEqual(uuidA, uuidB);
      assert.deepEqual(await entries(files.store), [uuidA, uuidB].sort());
      assert.deepEqual(
        await snapshot(`${files.store}/${uuidA}`),
        await snapshot(`${files.store}/${uuidB}`),
      );
      for (const uuid of [uuidA, uuidB]) {
        await assertEntry(files.store, uuid, {
          image: ref,
          digest: image.digest,
        });
      }
      assert.deepEqual(await stagingLeftovers(files.store), []);
      assert.deepEqual(await assertCacheConsistent(files.store), cached);

      // And the cache they left serves a third pull without downloads.
      proxy.clear();
      const third = assertPulled(await pull(files.store));
      assert.deepEqual(layerGets(proxy, image), []);
      assert.deepEqual(
        await snapshot(`${files.store}/${third}`),
        await snapshot(`${files.store}/${uuidA}`),
      );
    });
  },
);
