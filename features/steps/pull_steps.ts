/**
 * Steps for `polythene pull`: a real registry on loopback serving an image
 * built by the test rig, an empty store, and a pull from that registry.
 * The registry and the store are removed when the scenario ends.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { Given, Then, When } from "@cucumber/cucumber";
import { runPolythene } from "../../tests/helpers/cli.ts";
import { buildImage } from "../../tests/helpers/oci_image.ts";
import {
  pushImage,
  type Registry,
  startRegistry,
} from "../../tests/helpers/registry.ts";
import {
  assertPulled,
  busyboxEntries,
  tempStore,
} from "../../tests/helpers/pull_checks.ts";
import type { PolytheneWorld } from "./world.ts";

/** The registry each scenario started. */
const registries = new WeakMap<PolytheneWorld, Registry>();

Given<PolytheneWorld>(
  "a registry serving a busybox image as {string}",
  async function (name: string) {
    const registry = await startRegistry();
    this.defer(() => registry.stop());
    registries.set(this, registry);
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(),
          { name: "etc/", type: "dir" },
          { name: "etc/greeting", content: "hello from the registry\n" },
        ],
      }],
      config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] },
    });
    const colon = name.lastIndexOf(":");
    await pushImage(
      registry,
      name.slice(0, colon),
      name.slice(colon + 1),
      image,
    );
  },
);

Given<PolytheneWorld>("an empty store", async function () {
  const files = await tempStore();
  this.defer(() => files.cleanup());
  this.staged = {
    store: files.store,
    uuid: "",
    rootfs: "",
    cleanup: () => files.cleanup(),
  };
});

When<PolytheneWorld>(
  "I pull {string} from that registry",
  async function (name: string) {
    const registry = registries.get(this);
    assert.ok(registry, "No registry was started in this scenario");
    assert.ok(this.staged, "No store was made in this scenario");
    this.result = await runPolythene(
      ["pull", "--store", this.staged.store, `${registry.host}/${name}`],
    );
  },
);

Then<PolytheneWorld>("stdout is the UUID of a new entry", async function () {
  const uuid = assertPulled(this.lastResult());
  assert.ok(this.staged, "No store was made in this scenario");
  const rootfs = `${this.staged.store}/${uuid}`;
  assert.ok((await Deno.stat(rootfs)).isDirectory, `${rootfs} exists`);
  // Later steps' <uuid> is the new entry.
  this.staged = { ...this.staged, uuid, rootfs };
});
