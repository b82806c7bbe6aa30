/**
 * "Provision once, reuse everywhere" with the library, on a busybox image
 * in a loopback `docker-registry`: the first session finds no REF, pulls
 * the base from the registry, changes files in it (adds, deletes, links),
 * commits and pushes; a second session on a fresh store pulls REF instead
 * (its provisioning command would fail if it ran) and finds the changes,
 * the deleted file still deleted.
 *
 * Needs root (commit as root keeps owners exactly) and docker-registry.
 *
 * @module
 */

import assert from "node:assert/strict";
import { busyboxEntries } from "../../scripts/busybox_image.ts";
import { hostPlatform } from "../../src/image/platform.ts";
import { PolytheneSession } from "../../src/mod.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const MISSING = Deno.uid() !== 0 ? "needs root (uid 0)" : registryMissing();

testNeeding(
  MISSING,
  "session.provision: build, commit and push once; a fresh store pulls REF and runs in it",
  async () => {
    await using registry = await startRegistry();
    const dir = await Deno.makeTempDir({ prefix: "polythene-provision-" });
    try {
      const busybox = await buildImage({
        platform: hostPlatform(),
        layers: [{ entries: await busyboxEntries(), compression: "gzip" }],
      });
      await pushImage(registry, "test/busybox", "1", busybox);
      const base = `${registry.host}/test/busybox:1`;
      const ref = `${registry.host}/test/provisioned:1`;
      const silent = () => {};

      const first = new PolytheneSession({ store: `${dir}/a`, log: silent });
      const built = await first.provision(ref, {
        base,
        commands: [
          ["sh", "-c", "echo provisioned > /etc/provisioned"],
          ["rm", "/etc/os-release"],
          ["mkdir", "/opt"],
          ["ln", "-s", "/bin/busybox", "/opt/echo"],
        ],
      });
      assert.equal(built.reused, false);
      assert.match(built.digest ?? "", /^sha256:[0-9a-f]{64}$/);

      // The base layer as it was pulled, plus one layer of changes.
      const response = await fetch(
        `${registry.url}/v2/test/provisioned/manifests/1`,
        { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } },
      );
      const manifest = await response.json();
      assert.equal(response.headers.get("docker-content-digest"), built.digest);
      assert.equal(manifest.layers.length, 2);
      assert.equal(
        manifest.layers[0].digest,
        busybox.layers[0]!.descriptor.digest,
      );

      const second = new PolytheneSession({ store: `${dir}/b`, log: silent });
      const reused = await second.provision(ref, {
        base,
        commands: [["false"]],
      });
      assert.equal(reused.reused, true);
      assert.equal(reused.digest, undefined);
      const ran = await second.exec(reused.uuid, [
        "sh",
        "-c",
        "cat /etc/provisioned; test -e /etc/os-release || echo deleted; /opt/echo linked",
      ], { capture: true });
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "provisioned\ndeleted\nlinked\n");

      const failing = new PolytheneSession({ store: `${dir}/c`, log: silent });
      await assert.rejects(
        failing.provision(`${registry.host}/test/never:1`, {
          base,
          commands: [["true"], ["sh", "-c", "exit 3"]],
        }),
        /Cannot provision ".*test\/never:1": command 2 of 2 \(sh -c exit 3\) exited with 3/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
