/**
 * Hostile layers against the real filesystem: every case extracts into a
 * staging rootfs with sentinel files beside it (a sibling directory and a
 * directory in /tmp) and host files watched, and asserts afterwards that
 * none changed and nothing appeared outside the staging directory.
 *
 * As root the whole file runs in a child `deno test` inside the jail (a
 * throwaway mount namespace, the host read-only): see
 * `tests/helpers/jailed_file.ts`.
 */

import assert from "node:assert/strict";
import {
  extractLayer,
  LayerApplyError,
  LayerFormatError,
  LayerPathError,
} from "../../src/image/layers/mod.ts";
import type { TarEntry } from "../helpers/tar_writer.ts";
import {
  describe,
  exists,
  layer,
  type Sandbox,
  sandboxTests,
} from "../unit/layers/_sandbox.ts";
import { runsHere } from "../helpers/jailed_file.ts";

/** As root, these tests run in a child process inside the jail. */
const here = runsHere(import.meta.url, "hostile layers");

const asRoot = Deno.uid() === 0;
/** Owner of what this process creates (0:0 as root). */
const ME = `${Deno.uid()}:${Deno.gid()}`;

/** Applies `layers` in order; returns the first error (or undefined). */
async function apply(sb: Sandbox, ...layers: TarEntry[][]) {
  for (const entries of layers) {
    try {
      await extractLayer(layer(entries), sb.rootfs, { asRoot });
    } catch (error) {
      return error;
    }
  }
  return undefined;
}

/** A test with a fresh sandbox whose host side is checked at the end. */
const hostile = sandboxTests("hostile layer", here);

function refused(error: unknown, type: new (...a: never[]) => Error) {
  assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
}

for (const name of ["../../host/file", "a/../../host/file", "./../x", ".."]) {
  hostile(`path traversal "${name}" is refused`, async (sb) => {
    refused(
      await apply(sb, [{ name, content: "pwned" }]),
      LayerPathError,
    );
  });
}

hostile("absolute names are contained", async (sb) => {
  const error = await apply(sb, [
    { name: `${sb.tmp}/file`, content: "pwned" },
    { name: `${sb.host}/dir/inner`, content: "pwned" },
    { name: "/etc/passwd", content: "pwned" },
  ]);
  assert.equal(error, undefined);
  assert.equal(await Deno.readTextFile(`${sb.rootfs}${sb.tmp}/file`), "pwned");
  assert.equal(await Deno.readTextFile(`${sb.rootfs}/etc/passwd`), "pwned");
});

hostile("a symlink then a write through it, in one layer", async (sb) => {
  const error = await apply(sb, [
    { name: "evil", type: "symlink", linkname: sb.host },
    { name: "evil/file", content: "pwned" },
    { name: "rel", type: "symlink", linkname: "../../../../../../host" },
    { name: "rel/file", content: "pwned" },
    { name: "tmpdir", type: "symlink", linkname: sb.tmp },
    { name: "tmpdir/new", content: "pwned" },
  ]);
  assert.equal(error, undefined);
  // Resolved inside the rootfs: `..` stops at its root.
  assert.equal(await Deno.readTextFile(`${sb.rootfs}${sb.host}/file`), "pwned");
  assert.equal(await Deno.readTextFile(`${sb.rootfs}/host/file`), "pwned");
  assert.ok(!(await exists(`${sb.tmp}/new`)));
});

hostile("a symlink then a write through it, across two layers", async (sb) => {
  const error = await apply(
    sb,
    [
      { name: "evil", type: "symlink", linkname: sb.host },
      { name: "chain", type: "symlink", linkname: "evil/dir" },
    ],
    [
      { name: "evil/file", content: "pwned" },
      { name: "chain/inner", content: "pwned" },
      { name: "evil/dir/", type: "dir", mode: 0o777 },
    ],
  );
  assert.equal(error, undefined);
  assert.equal(
    await Deno.readTextFile(`${sb.rootfs}${sb.host}/dir/inner`),
    "pwned",
  );
  assert.equal(
    await describe(`${sb.rootfs}/evil`),
    `symlink 0777 ${ME} -> ${sb.host}`,
  );
});

hostile("a symlink to / then files under it", async (sb) => {
  const error = await apply(sb, [
    { name: "root", type: "symlink", linkname: "/" },
    { name: "root/etc/passwd", content: "pwned" },
    { name: "up", type: "symlink", linkname: "../../../../.." },
    { name: "up/etc/hostname", content: "pwned" },
  ]);
  assert.equal(error, undefined);
  assert.equal(await Deno.readTextFile(`${sb.rootfs}/etc/passwd`), "pwned");
  assert.equal(await Deno.readTextFile(`${sb.rootfs}/etc/hostname`), "pwned");
});

hostile(
  "a file entry replaces a symlink instead of writing through",
  async (sb) => {
    const error = await apply(
      sb,
      [{ name: "evil", type: "symlink", linkname: `${sb.host}/file` }],
      [
        { name: "evil", content: "pwned" },
        { name: "dirlink", type: "symlink", linkname: `${sb.host}/dir` },
        { name: "dirlink/", type: "dir" },
        { name: "dirlink/inner", content: "mine" },
      ],
    );
    assert.equal(error, undefined);
    assert.equal(
      await describe(`${sb.rootfs}/evil`),
      `file 0644 ${ME} "pwned"`,
    );
    assert.equal(await describe(`${sb.rootfs}/dirlink`), `dir 0755 ${ME}`);
  },
);

hostile('a hardlink out with ".." is refused', async (sb) => {
  refused(
    await apply(sb, [
      { name: "x", type: "hardlink", linkname: "../../host/file" },
    ]),
    LayerPathError,
  );
});

hostile("a hardlink to /etc/passwd stays inside the rootfs", async (sb) => {
  const error = await apply(sb, [
    { name: "x", type: "hardlink", linkname: "/etc/passwd" },
  ]);
  refused(error, LayerApplyError);
  assert.match(String(error), /does not exist/);
  assert.ok(!(await exists(`${sb.rootfs}/x`)));
});

hostile("a hardlink through a symlinked parent stays inside", async (sb) => {
  const error = await apply(sb, [
    { name: "evil", type: "symlink", linkname: sb.host },
    { name: "x", type: "hardlink", linkname: "evil/file" },
  ]);
  refused(error, LayerApplyError);
});

hostile(
  "a hardlink to a symlink that points outside is refused",
  async (sb) => {
    for (const target of [`${sb.host}/file`, "../../host/file"]) {
      refused(
        await apply(sb, [
          { name: "s", type: "symlink", linkname: target },
          { name: "h", type: "hardlink", linkname: "s" },
        ]),
        LayerPathError,
      );
    }
  },
);

hostile("a hardlink to a symlink inside the rootfs is kept", async (sb) => {
  const error = await apply(sb, [
    { name: "bin/", type: "dir" },
    { name: "bin/s", type: "symlink", linkname: "../etc/x" },
    { name: "h", type: "hardlink", linkname: "bin/s" },
  ]);
  assert.equal(error, undefined);
  assert.equal(
    await describe(`${sb.rootfs}/h`),
    `symlink 0777 ${ME} -> ../etc/x`,
  );
});

for (const name of [".wh...", ".wh..", "dir/.wh.", "a/../../.wh.host"]) {
  hostile(`the whiteout "${name}" is refused`, async (sb) => {
    refused(await apply(sb, [{ name }]), LayerPathError);
  });
}

hostile("whiteouts through a symlink stay inside the rootfs", async (sb) => {
  const error = await apply(
    sb,
    [
      { name: "evil", type: "symlink", linkname: sb.host },
      { name: "tmpdir", type: "symlink", linkname: sb.tmp },
      { name: "up", type: "symlink", linkname: "../.." },
    ],
    [
      { name: "evil/.wh.file" },
      { name: "evil/.wh.dir" },
      { name: "tmpdir/.wh..wh..opq" },
      { name: "up/host/.wh.file" },
      { name: "up/.wh.host" },
    ],
  );
  assert.equal(error, undefined);
  assert.ok(await exists(`${sb.rootfs}/evil`));
});

hostile("a whiteout of the link itself removes only the link", async (sb) => {
  const error = await apply(
    sb,
    [{ name: "evil", type: "symlink", linkname: sb.host }],
    [{ name: ".wh.evil" }],
  );
  assert.equal(error, undefined);
  assert.ok(!(await exists(`${sb.rootfs}/evil`)));
});

for (
  const entry of [
    { name: "./", type: "symlink", linkname: "/" },
    { name: ".", type: "symlink", linkname: "/" },
    { name: "/", type: "symlink", linkname: "/tmp" },
    { name: ".", type: "file", content: "x" },
    { name: ".", type: "hardlink", linkname: "etc/passwd" },
  ] as TarEntry[]
) {
  hostile(
    `a root entry "${entry.name}" of type ${entry.type} is refused`,
    async (sb) => {
      refused(
        await apply(sb, [entry, { name: "etc/passwd", content: "pwned" }]),
        LayerPathError,
      );
      assert.equal(await describe(sb.rootfs), `dir 0755 ${ME}`);
    },
  );
}

hostile("a NUL byte in a name is refused", async (sb) => {
  // A PAX path with a NUL is a malformed record to Go's reader, and so here.
  refused(
    await apply(sb, [{ name: "a", pax: { path: "a\0/../../x" } }]),
    LayerFormatError,
  );
});

hostile("a symlink loop is an error, not a hang", async (sb) => {
  const error = await apply(sb, [
    { name: "a", type: "symlink", linkname: "b" },
    { name: "b", type: "symlink", linkname: "a" },
    { name: "a/x", content: "x" },
  ]);
  refused(error, LayerApplyError);
  assert.match(String(error), /symlinks/);
});

hostile("a file below a regular file is an error", async (sb) => {
  const error = await apply(sb, [
    { name: "f", content: "x" },
    { name: "f/x", content: "x" },
  ]);
  refused(error, LayerApplyError);
});
