/**
 * The host-side writes of `pull` and `exec` never follow a link an image
 * left: an image that ships `.polythene-meta` as a symlink (absolute, or
 * made of `../`) to a host sentinel, or as a FIFO or a directory, is pulled
 * through the real CLI from an OCI layout. The sentinel stays unchanged, the
 * pull never hangs, and a refused pull publishes nothing.
 *
 * The sentinels live in the test's own temporary directory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import {
  assertFailed,
  assertPulled,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";
import type { TarEntry } from "../helpers/tar_writer.ts";
import { recordLastBackend } from "../../src/store/last_backend.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

/** As root, the CLI runs in the jail: the host read-only but for `dir`. */
function jailed(dir: string) {
  return canJail() ? { prefix: jailPrefix([dir]), env: { TMPDIR: dir } } : {};
}

const LAST_BACKEND = new URL(
  "../../src/store/last_backend.ts",
  import.meta.url,
).href;
const SENTINEL = "host sentinel: must not change\n";

/** Writes a one-layer OCI layout of `entries` at `DIR/layout`. */
async function layout(tmp: TempStore, entries: TarEntry[]): Promise<string> {
  const image = await buildImage({
    layers: [{
      compression: "gzip",
      entries: [{ name: "etc/", type: "dir" }, ...entries],
    }],
  });
  const dir = `${tmp.dir}/layout`;
  await writeOciLayout(dir, image, "v1");
  return `oci:${dir}:v1`;
}

/** Pulls with a safety net well under the CLI's own: a hang fails fast. */
function pull(tmp: TempStore, image: string) {
  return runPolythene(["pull", "-q", "--store", tmp.store, image], {
    ...jailed(tmp.dir),
    killAfterMs: 60_000,
  });
}

async function withSentinel(
  fn: (tmp: TempStore, sentinel: string) => Promise<void>,
): Promise<void> {
  await using tmp = await tempStore();
  const sentinel = `${tmp.dir}/sentinel`;
  await Deno.writeTextFile(sentinel, SENTINEL);
  await fn(tmp, sentinel);
  assert.equal(await Deno.readTextFile(sentinel), SENTINEL, "sentinel kept");
  assert.ok((await Deno.lstat(sentinel)).isFile, "sentinel still a file");
}

for (const how of ["absolute", "relative"] as const) {
  Deno.test(`pull: a .polythene-meta symlink (${how}) to a host file is replaced, never followed`, async () => {
    await withSentinel(async (tmp, sentinel) => {
      // STORE/.polythene/staging/UUID/.polythene-meta: four `..` reach
      // the temporary directory that holds the store and the sentinel.
      const target = how === "absolute" ? sentinel : "../../../../sentinel";
      const image = await layout(tmp, [
        { name: ".polythene-meta", type: "symlink", linkname: target },
      ]);
      const uuid = assertPulled(await pull(tmp, image));
      const meta = `${tmp.store}/${uuid}/.polythene-meta`;
      assert.ok((await Deno.lstat(meta)).isFile, "a regular file now");
      assert.match(await Deno.readTextFile(meta), /^image=oci:/);
    });
  });
}

for (
  const [kind, entry] of [
    ["FIFO", { name: ".polythene-meta", type: "fifo" }],
    ["directory", { name: ".polythene-meta/", type: "dir" }],
  ] as const
) {
  testNeeding(
    kind === "FIFO" && Deno.uid() !== 0 ? "root (mknod)" : undefined,
    `pull: a ${kind} at .polythene-meta is one clear error, no hang, nothing published`,
    async () => {
      await withSentinel(async (tmp) => {
        const image = await layout(tmp, [entry]);
        await assertFailed(await pull(tmp, image), {
          store: tmp.store,
          image,
          matches: new RegExp(`a ${kind} at /\\.polythene-meta`),
        });
      });
    },
  );
}

Deno.test("exec's last-backend record replaces a symlink and skips a FIFO", async () => {
  await withSentinel(async (tmp, sentinel) => {
    const entries = `${tmp.store}/.polythene/entries`;
    await Deno.mkdir(entries, { recursive: true });
    const linked = "01900000-0000-7000-8000-000000000001";
    await Deno.symlink(sentinel, `${entries}/${linked}.backend`);
    recordLastBackend(tmp.store, linked, "proot");
    const record = `${entries}/${linked}.backend`;
    assert.ok((await Deno.lstat(record)).isFile);
    assert.equal(await Deno.readTextFile(record), "proot\n");
    const fifo = "01900000-0000-7000-8000-000000000002";
    const mkfifo = await new Deno.Command("mkfifo", {
      args: [`${entries}/${fifo}.backend`],
    }).output();
    assert.equal(mkfifo.code, 0);
    // In a child with a deadline: a FIFO opened for reading would block.
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { recordLastBackend } from ${JSON.stringify(LAST_BACKEND)};
         recordLastBackend(${JSON.stringify(tmp.store)}, "${fifo}", "proot");`,
      ],
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(child.code, 0, new TextDecoder().decode(child.stderr));
    assert.ok((await Deno.lstat(`${entries}/${fifo}.backend`)).isFifo);
  });
});
