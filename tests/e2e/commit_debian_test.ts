/**
 * A commit of the Debian entry (about 120 MB unpacked, pulled from a
 * loopback registry) with ten changed files writes a small layer: the base
 * layer is reused by digest (a hard link to the cached blob, not a copy)
 * and the new layer holds only the ten files. Checked by size, not time.
 *
 * Needs root, docker-registry and the Debian image (cached by
 * scripts/setup.sh); under `CI=true` a missing one fails the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { missingFor, testNeeding } from "../helpers/fixtures.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { assertPulled, explain, tempStore } from "../helpers/pull_checks.ts";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";

const MISSING = missingFor({
  root: true,
  also: [registryMissing(), await debianImageMissing()],
});

testNeeding(
  MISSING,
  "commit: ten changed files of the Debian entry make a small layer over the reused base",
  async () => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    const store = files.store;
    const image = await debianOciImage(await debianImage());
    await pushImage(registry, "test/debian", "12", image);
    const uuid = assertPulled(
      await runPolythene([
        "pull",
        "-s",
        store,
        `${registry.host}/test/debian:12`,
      ]),
    );
    const root = `${store}/${uuid}`;
    for (let i = 0; i < 10; i++) {
      await Deno.writeTextFile(`${root}/etc/provisioned-${i}`, `file ${i}\n`);
    }
    const committed = await runPolythene(["commit", "-s", store, uuid]);
    assert.equal(committed.code, 0, explain(committed));
    const digest = committed.stdout.trim();
    const layout = `${store}/.polythene/images`;
    const blob = (d: string) => `${layout}/blobs/${d.replace(":", "/")}`;
    const manifest = JSON.parse(await Deno.readTextFile(blob(digest)));
    assert.equal(manifest.layers.length, 2);
    const [base, layer] = manifest.layers;
    assert.equal(base.digest, image.layers[0]!.descriptor.digest);
    assert.ok(
      (await Deno.stat(blob(base.digest))).nlink! >= 2,
      "the base layer is a hard link to the cached blob, not a copy",
    );
    // Ten small files and /etc: a few headers, well under 64 KiB.
    assert.ok(layer.size < 64 * 1024, `the new layer is ${layer.size} bytes`);
    assert.equal((await Deno.stat(blob(layer.digest))).size, layer.size);
  },
);
