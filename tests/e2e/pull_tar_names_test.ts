/**
 * Tar names through the real CLI, read as Go's `archive/tar` (Docker,
 * containerd) reads them: names that are not UTF-8 are refused, never
 * merged; a PAX global header's `path` and `linkpath` are ignored; and an
 * escape sequence in a name never reaches the terminal raw.
 *
 * The layers only make files inside the staging directory of a temporary
 * store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import {
  assertFailed,
  assertPulled,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";
import {
  concat,
  entryBlocks,
  paxGlobalBlocks,
  type TarEntry,
} from "../helpers/tar_writer.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

/** As root, the CLI runs in the jail: the host read-only but for `dir`. */
function jailed(dir: string) {
  return canJail() ? { prefix: jailPrefix([dir]), env: { TMPDIR: dir } } : {};
}

/** Writes a one-layer OCI layout whose tar is `tar`; returns IMAGE. */
async function layout(tmp: TempStore, tar: Uint8Array): Promise<string> {
  const image = await buildImage({ layers: [{ compression: "gzip", tar }] });
  const dir = `${tmp.dir}/layout`;
  await writeOciLayout(dir, image, "v1");
  return `oci:${dir}:v1`;
}

function tar(...parts: (TarEntry | Uint8Array[])[]): Uint8Array {
  return concat([
    ...parts.flatMap((p) => Array.isArray(p) ? p : entryBlocks(p)),
    new Uint8Array(1024),
  ]);
}

function pull(tmp: TempStore, image: string, ...options: string[]) {
  return runPolythene(
    ["pull", "-q", ...options, "--store", tmp.store, image],
    jailed(tmp.dir),
  );
}

const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test("pull: names that are not UTF-8 are refused, never merged into one", async () => {
  await using tmp = await tempStore();
  for (
    const [entries, shown] of [
      [[
        { name: "n?", nameBytes: bytes(0x6e, 0xff), content: "first\n" },
        { name: "n?", nameBytes: bytes(0x6e, 0xfe), content: "second\n" },
      ], "n\\xff"],
      [[
        { name: "ok", content: "fine\n" },
        { name: "n?", nameBytes: bytes(0x6e, 0xfe), content: "second\n" },
      ], "n\\xfe"],
    ] as const
  ) {
    const image = await layout(tmp, tar(...entries));
    const result = await pull(tmp, image);
    await assertFailed(result, {
      store: tmp.store,
      image,
      matches: new RegExp(
        `entry "${shown.replace(/\\/g, "\\\\")}": its name is not valid UTF-8`,
      ),
    });
    await Deno.remove(`${tmp.dir}/layout`, { recursive: true });
  }
});

Deno.test("pull: a PAX global header's path and linkpath are ignored", async () => {
  await using tmp = await tempStore();
  const image = await layout(
    tmp,
    tar(
      { name: "etc/", type: "dir" },
      paxGlobalBlocks({ path: "evil", linkpath: "/etc/shadow" }),
      { name: "etc/first", content: "one\n" },
      { name: "etc/link", type: "symlink", linkname: "first" },
      { name: "etc/second", content: "two\n" },
    ),
  );
  const uuid = assertPulled(await pull(tmp, image));
  const root = `${tmp.store}/${uuid}`;
  assert.equal(await Deno.readTextFile(`${root}/etc/first`), "one\n");
  assert.equal(await Deno.readTextFile(`${root}/etc/second`), "two\n");
  assert.equal(await Deno.readLink(`${root}/etc/link`), "first");
  await assert.rejects(() => Deno.lstat(`${root}/evil`), Deno.errors.NotFound);
});

Deno.test("pull: an escape sequence in a refused name never reaches the terminal raw", async () => {
  await using tmp = await tempStore();
  const hostile = "\x1b]0;owned\x07\x1b[2J/../../x";
  const image = await layout(tmp, tar({ name: hostile, content: "x" }));
  const shown = /\\x1b\]0;owned\\x07\\x1b\[2J\/\.\.\/\.\.\/x/;
  for (const verbose of [[], ["-v"]]) {
    const result = await pull(tmp, image, ...verbose);
    if (verbose.length === 0) {
      await assertFailed(result, { store: tmp.store, image, matches: shown });
    } else {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, shown);
    }
    for (const text of [result.stdout, result.stderr]) {
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f]/, "no raw control");
    }
  }
});
