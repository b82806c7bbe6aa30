/**
 * An image cannot choose emulation, and so a weaker backend: the platform
 * pull records (which `exec` reads to decide on qemu, and a host whose
 * kernel cannot emulate then leaves only proot) must be the one asked for
 * (`--platform`, else the host's). A hostile image that lists itself as the
 * host's platform in its index but carries a foreign config, or a
 * docker-archive whose config names a foreign architecture, is refused
 * without `--platform`, and nothing is published.
 *
 * As root every pull runs in the jail (`jail.ts`): the host is read-only
 * but for the test's own directory.
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";
import {
  buildImage,
  buildIndex,
  writeDockerArchive,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import { hostPlatform } from "../../src/image/platform.ts";

const host = hostPlatform();
/** An architecture that is not the host's (nor runs natively on it). */
const foreign = host.architecture === "arm64"
  ? { os: "linux", architecture: "amd64" }
  : { os: "linux", architecture: "arm64", variant: "v8" };

async function foreignImage() {
  return await buildImage({
    layers: [{
      entries: [{ name: "hello", content: "hi\n" }],
      compression: "gzip",
    }],
    platform: foreign,
  });
}

async function entries(store: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(store)) {
      if (!e.name.startsWith(".")) names.push(e.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

Deno.test("pull: an image cannot record a platform nobody asked for", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "polythene-platform-lie-" });
  const pull = (args: string[]) =>
    runPolythene(["pull", "--quiet", "--store", `${tmp}/store`, ...args], {
      ...(canJail() ? { prefix: jailPrefix([tmp]) } : {}),
      env: { TMPDIR: tmp },
    });
  try {
    await t.step(
      "an index entry for the host over a foreign config",
      async () => {
        const image = await foreignImage();
        // The index claims the host's platform for the foreign image.
        const index = await buildIndex([{ ...image, platform: host }]);
        await writeOciLayout(`${tmp}/lie`, index, "v1");
        const out = await pull([`oci:${tmp}/lie:v1`]);
        assert.equal(out.code, 1, out.stderr);
        assert.match(out.stderr, /is for linux\/(arm64|amd64)/);
        assert.deepEqual(await entries(`${tmp}/store`), []);
      },
    );

    await t.step("a docker-archive of a foreign image", async () => {
      await writeDockerArchive(`${tmp}/foreign.tar`, await foreignImage());
      const out = await pull([`docker-archive:${tmp}/foreign.tar`]);
      assert.equal(out.code, 1, out.stderr);
      assert.match(out.stderr, /--platform/);
      assert.deepEqual(await entries(`${tmp}/store`), []);
    });

    await t.step("--platform takes it: the user chose it", async () => {
      const wanted = [foreign.os, foreign.architecture].join("/");
      const out = await pull([
        "--platform",
        wanted,
        `docker-archive:${tmp}/foreign.tar`,
      ]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal((await entries(`${tmp}/store`)).length, 1);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
