/**
 * commit as root reads an entry a guest had in hand: what is not a regular
 * file must be recorded from `lstat`, never opened or followed. A FIFO (an
 * open would block forever), a symlink to the host's `/etc/shadow` (a
 * follow would put the host's file in the layer), a device node (an open
 * would read the device) and hardlinks go into the layer as tar members of
 * their own type, with no body.
 *
 * As root, commit runs in the jail (`jail.ts`): the host is read-only but
 * for the test's own directory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { makeBusyboxStore } from "../helpers/fixtures.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";
import { blobPath, imagesDir } from "../../src/image/local_images.ts";
import { decompressStream } from "../../src/image/layers/decompress.ts";
import { readTarHeaders } from "../../src/image/commit/tar_headers.ts";
import type { TarHeader } from "../../src/image/commit/tar_format.ts";

async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1) })
    .output();
  assert.ok(
    out.success,
    `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
  );
}

Deno.test("commit records FIFOs, links and devices without opening or following them", async () => {
  const staged = await makeBusyboxStore();
  const dir = staged.store.slice(0, staged.store.lastIndexOf("/"));
  try {
    const root = staged.rootfs;
    await run(["mkfifo", `${root}/pipe`]);
    await Deno.symlink("/etc/shadow", `${root}/shadow`);
    await Deno.writeTextFile(`${root}/one`, "linked\n");
    await Deno.link(`${root}/one`, `${root}/two`);
    if (Deno.uid() === 0) await run(["mknod", `${root}/null`, "c", "1", "3"]);
    const out = await runPolythene(
      ["commit", "--store", staged.store, staged.uuid],
      {
        ...(canJail() ? { prefix: jailPrefix([dir]) } : {}),
        killAfterMs: 60_000,
      },
    );
    assert.equal(out.code, 0, out.stderr);
    const digest = out.stdout.trim();
    const layout = imagesDir(staged.store);
    const manifest = JSON.parse(
      await Deno.readTextFile(blobPath(layout, digest)),
    ) as { layers: { mediaType: string; digest: string }[] };
    const top = manifest.layers.at(-1)!;
    const headers = new Map<string, TarHeader>();
    const tar = decompressStream(
      top.mediaType,
      (await Deno.open(blobPath(layout, top.digest))).readable,
    );
    for await (const header of readTarHeaders(tar)) {
      headers.set(header.name, header);
    }
    assert.equal(headers.get("pipe")?.type, "fifo");
    assert.equal(headers.get("pipe")?.size, 0);
    assert.equal(headers.get("shadow")?.type, "symlink");
    assert.equal(headers.get("shadow")?.linkname, "/etc/shadow");
    assert.equal(headers.get("shadow")?.size, 0);
    const pair = [headers.get("one"), headers.get("two")];
    assert.deepEqual(pair.map((h) => h?.type).sort(), ["file", "hardlink"]);
    if (Deno.uid() === 0) {
      assert.equal(headers.get("null")?.type, "char");
      assert.deepEqual(
        [headers.get("null")?.devmajor, headers.get("null")?.devminor],
        [1, 3],
      );
    }
  } finally {
    await staged.cleanup();
  }
});
