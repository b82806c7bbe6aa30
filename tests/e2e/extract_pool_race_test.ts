/**
 * The parallel write pool (`src/image/layers/_pool.ts`) against layers made
 * to race it: many small files are queued (more than the pool holds), then
 * their directory, or a file of the same name, becomes a symlink to a host
 * directory, and more files follow through that name. Every write must land
 * where the synchronous extractor would have put it: nothing outside the
 * staging directory, no file of the first batch left behind under the link.
 *
 * As root the whole file runs in the jail (`jailed_file.ts`).
 */

import assert from "node:assert/strict";
import { extractLayer } from "../../src/image/layers/mod.ts";
import { POOL_SIZE } from "../../src/image/layers/_pool.ts";
import { SMALL_FILE } from "../../src/image/layers/_file_body.ts";
import type { TarEntry } from "../helpers/tar_writer.ts";
import { exists, layer, sandboxTests } from "../unit/layers/_sandbox.ts";
import { runsHere } from "../helpers/jailed_file.ts";

const here = runsHere(import.meta.url, "write pool races");
const asRoot = Deno.uid() === 0;

/**
 * `count` files under `dir`, named `PREFIX<i>`, each `bytes` long (at most
 * `SMALL_FILE`, so the pool writes them; large ones stay in flight longer).
 */
function files(
  dir: string,
  prefix: string,
  count: number,
  bytes = 0,
): TarEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${dir}/${prefix}${i}`,
    content: `${prefix}${i}\n`.padEnd(bytes, "."),
  }));
}

const race = sandboxTests("write pool", here);

const MANY = POOL_SIZE * 5;

race(
  "a directory turned into a link to the host while its files are queued",
  async (sb) => {
    await extractLayer(
      layer([
        { name: "d/", type: "dir" },
        ...files("d", "f", MANY),
        { name: "d", type: "symlink", linkname: sb.host },
        ...files("d", "g", MANY),
      ]),
      sb.rootfs,
      { asRoot },
    );
    // The later entries went through the link, resolved inside the rootfs.
    assert.equal((await Deno.lstat(`${sb.rootfs}/d`)).isSymlink, true);
    for (let i = 0; i < MANY; i++) {
      assert.equal(
        await Deno.readTextFile(`${sb.rootfs}${sb.host}/g${i}`),
        `g${i}\n`,
      );
      assert.ok(!await exists(`${sb.rootfs}${sb.host}/f${i}`), `f${i} left`);
      assert.ok(!await exists(`${sb.host}/g${i}`), `g${i} on the host`);
    }
  },
);

race("a queued file replaced by a link, then written through", async (sb) => {
  await extractLayer(
    layer([
      ...files("", "x", MANY, SMALL_FILE).map((e) => ({
        ...e,
        name: e.name.slice(1),
      })),
      { name: "x3", type: "symlink", linkname: `${sb.tmp}/file` },
      { name: "x3", content: "replaced\n" },
      { name: "y", type: "symlink", linkname: sb.tmp },
      ...files("y", "z", MANY),
    ]),
    sb.rootfs,
    { asRoot },
  );
  assert.equal(await Deno.readTextFile(`${sb.rootfs}/x3`), "replaced\n");
  assert.equal(await Deno.readTextFile(`${sb.tmp}/file`), "tmp sentinel\n");
  for (let i = 0; i < MANY; i++) {
    assert.ok(!await exists(`${sb.tmp}/z${i}`), `z${i} in the host's tmp`);
  }
});
