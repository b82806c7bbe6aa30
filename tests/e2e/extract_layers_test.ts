/**
 * Applying real layers, in order, onto one rootfs: whiteouts, opaque
 * directories, hardlinks, symlinks and type changes, checked against the
 * exact expected tree (types, modes, owners, contents, link targets).
 */

import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import {
  decompressStream,
  extractLayer,
  LayerFormatError,
  type LayerStats,
} from "../../src/image/layers/mod.ts";
import { assertEquals } from "../helpers/assert.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { tarBytes, type TarEntry } from "../helpers/tar_writer.ts";
import {
  bytesStream,
  layer,
  makeSandbox,
  rejection,
  snapshot,
} from "../unit/layers/_sandbox.ts";

const T1 = 1_600_000_000;
const T2 = 1_650_000_000;

const LAYER_1: TarEntry[] = [
  { name: "./", type: "dir", mode: 0o755, mtime: T1 },
  { name: "etc/", type: "dir", mtime: T1 },
  { name: "etc/passwd", content: "root:x:0:0\n" },
  { name: "etc/hostname", content: "old\n" },
  { name: "etc/group", content: "root:x:0:\n" },
  { name: "usr/", type: "dir" },
  { name: "usr/bin/", type: "dir" },
  { name: "usr/bin/tool", content: "v1", mode: 0o755 },
  { name: "usr/bin/tool-link", type: "hardlink", linkname: "usr/bin/tool" },
  { name: "usr/bin/su", content: "su", mode: 0o4755 },
  { name: "usr/bin/wall", content: "wall", mode: 0o2755, gid: 5 },
  { name: "bin", type: "symlink", linkname: "usr/bin" },
  { name: "opt/app/a", content: "a" },
  { name: "opt/app/sub/c", content: "c" },
  { name: "var/x/", type: "dir" },
  { name: "var/x/f", content: "f" },
  { name: "data/file1", content: "was a file" },
  { name: "lnk", type: "symlink", linkname: "etc" },
  { name: "keep/", type: "dir" },
  { name: "keep/old", content: "old" },
  { name: "home/user/", type: "dir", mode: 0o750, uid: 1000, gid: 1000 },
  { name: "home/user/.profile", content: "x", uid: 1000, gid: 1000 },
  { name: "tmp/", type: "dir", mode: 0o1777 },
  { name: "run/fifo", type: "fifo", mode: 0o600 },
  { name: "ro/", type: "dir", mode: 0o555 },
  { name: "ro/file", content: "r", mode: 0o444 },
];

const LAYER_2: TarEntry[] = [
  { name: "etc/.wh.hostname" },
  // The same layer re-adds what it whites out: the whiteout hits lower
  // layers only, whichever comes first.
  { name: "etc/.wh.passwd" },
  { name: "etc/passwd", content: "root:x:0:0:new\n" },
  { name: "etc/group", content: "new group\n" },
  { name: "etc/.wh.group" },
  { name: "opt/app/new", content: "new" },
  { name: "opt/app/.wh..wh..opq" },
  { name: "var/x", content: "dir became file" },
  { name: "data/file1/", type: "dir" },
  { name: "data/file1/inner", content: "file became dir" },
  { name: "lnk/", type: "dir", mode: 0o700, mtime: T2 },
  { name: "bin/extra", content: "through the usrmerge link", mode: 0o755 },
  { name: "usr/bin/tool", content: "v2", mode: 0o755 },
  { name: "keep/.wh.old" },
  { name: "keep/new", content: "new" },
  { name: "ro/.wh.file" },
];

const LAYER_3: TarEntry[] = [
  { name: ".wh.keep" },
  { name: "usr/bin/tool2", type: "hardlink", linkname: "bin/extra" },
  { name: "data/", type: "dir", mode: 0o711, mtime: T2 },
  { name: ".wh.ro" },
];

const EXPECTED: Record<string, string> = {
  "/bin": "symlink 0777 0:0 -> usr/bin",
  "/data": "dir 0711 0:0",
  "/data/file1": "dir 0755 0:0",
  "/data/file1/inner": 'file 0644 0:0 "file became dir"',
  "/etc": "dir 0755 0:0",
  "/etc/group": 'file 0644 0:0 "new group\\n"',
  "/etc/passwd": 'file 0644 0:0 "root:x:0:0:new\\n"',
  "/home": "dir 0755 0:0",
  "/home/user": "dir 0750 1000:1000",
  "/home/user/.profile": 'file 0644 1000:1000 "x"',
  "/lnk": "dir 0700 0:0",
  "/opt": "dir 0755 0:0",
  "/opt/app": "dir 0755 0:0",
  "/opt/app/new": 'file 0644 0:0 "new"',
  "/run": "dir 0755 0:0",
  "/run/fifo": "fifo 0600 0:0",
  "/tmp": "dir 1777 0:0",
  "/usr": "dir 0755 0:0",
  "/usr/bin": "dir 0755 0:0",
  "/usr/bin/extra": 'file 0755 0:0 "through the usrmerge link"',
  "/usr/bin/su": 'file 4755 0:0 "su"',
  "/usr/bin/tool": 'file 0755 0:0 "v2"',
  "/usr/bin/tool-link": 'file 0755 0:0 "v1"',
  "/usr/bin/tool2": 'file 0755 0:0 "through the usrmerge link"',
  "/usr/bin/wall": 'file 2755 0:5 "wall"',
  "/var": "dir 0755 0:0",
  "/var/x": 'file 0644 0:0 "dir became file"',
};

testNeeding(
  Deno.uid() === 0 ? undefined : "root",
  "three layers apply to exactly the expected tree (as root)",
  async () => {
    const sb = await makeSandbox();
    try {
      const stats: LayerStats[] = [];
      for (const entries of [LAYER_1, LAYER_2, LAYER_3]) {
        stats.push(
          await extractLayer(layer(entries), sb.rootfs, { asRoot: true }),
        );
      }
      assertEquals(await snapshot(sb.rootfs), EXPECTED);
      const tool2 = await Deno.lstat(`${sb.rootfs}/usr/bin/tool2`);
      const extra = await Deno.lstat(`${sb.rootfs}/usr/bin/extra`);
      assert.equal(tool2.ino, extra.ino);
      assert.equal(extra.nlink, 2);
      assert.equal((await Deno.lstat(`${sb.rootfs}/usr/bin/tool`)).nlink, 1);
      // Directory mtimes are set after the layer's entries.
      assert.equal(
        (await Deno.lstat(`${sb.rootfs}/data`)).mtime?.getTime(),
        T2 * 1000,
      );
      assert.equal(
        (await Deno.lstat(`${sb.rootfs}/lnk`)).mtime?.getTime(),
        T2 * 1000,
      );
      assert.equal(
        (await Deno.lstat(`${sb.rootfs}/etc/passwd`)).mtime?.getTime(),
        1_700_000_000_000,
      );
      assert.deepEqual(stats.map((s) => s.whiteouts), [0, 6, 2]);
      assert.equal(stats[0]!.hardlinks, 1);
      assert.equal(stats[0]!.fifos, 1);
      await sb.assertHostUntouched();
    } finally {
      await sb.cleanup();
    }
  },
);

testNeeding(
  Deno.uid() === 0 ? undefined : "root",
  "device nodes are created with their numbers, owner and mode (as root)",
  async () => {
    const sb = await makeSandbox();
    try {
      const stats = await extractLayer(
        layer([
          {
            name: "dev/null",
            type: "char",
            devmajor: 1,
            devminor: 3,
            mode: 0o666,
          },
          {
            name: "dev/loop0",
            type: "block",
            devmajor: 7,
            devminor: 0,
            mode: 0o660,
            gid: 6,
          },
          {
            name: "dev/tty",
            type: "char",
            devmajor: 5,
            devminor: 0,
            mode: 0o666,
            mtime: T2,
          },
        ]),
        sb.rootfs,
        { asRoot: true },
      );
      assert.equal(stats.devices, 3);
      assertEquals(await snapshot(sb.rootfs), {
        "/dev": "dir 0755 0:0",
        "/dev/loop0": `block 0660 0:6 ${7 * 256}`,
        "/dev/null": `char 0666 0:0 ${1 * 256 + 3}`,
        "/dev/tty": `char 0666 0:0 ${5 * 256}`,
      });
      assert.equal(
        (await Deno.lstat(`${sb.rootfs}/dev/tty`)).mtime?.getTime(),
        T2 * 1000,
      );
    } finally {
      await sb.cleanup();
    }
  },
);

Deno.test("long names (PAX and GNU) and deep paths extract", async () => {
  const sb = await makeSandbox();
  try {
    const deep = Array.from({ length: 40 }, (_, i) => `d${i}`).join("/");
    const long = `${"n".repeat(200)}/${"m".repeat(250)}`;
    await extractLayer(
      layer([
        { name: `${deep}/file`, content: "deep" },
        { name: `${long}`, content: "long" },
        {
          name: "link",
          type: "symlink",
          linkname: `${deep}/${"t".repeat(150)}`,
        },
      ]),
      sb.rootfs,
      { asRoot: Deno.uid() === 0 },
    );
    assert.equal(await Deno.readTextFile(`${sb.rootfs}/${deep}/file`), "deep");
    assert.equal(await Deno.readTextFile(`${sb.rootfs}/${long}`), "long");
    assert.equal(
      await Deno.readLink(`${sb.rootfs}/link`),
      `${deep}/${"t".repeat(150)}`,
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("gzip (two members), zstd (two frames) and plain layers extract alike", async () => {
  const first = tarBytes([{ name: "a/one", content: "1".repeat(5000) }]).slice(
    0,
    1024,
  );
  const whole = tarBytes([{ name: "a/one", content: "1".repeat(5000) }, {
    name: "a/two",
    content: "2",
  }]);
  const rest = whole.slice(1024);
  const gzip = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
  const blobs: [string, Uint8Array][] = [
    [
      "application/vnd.oci.image.layer.v1.tar+gzip",
      concat(gzip(first), gzip(rest)),
    ],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", gzip(whole)],
    [
      "application/vnd.oci.image.layer.v1.tar+zstd",
      concat(zstdCompressSync(first), zstdCompressSync(rest)),
    ],
    ["application/vnd.oci.image.layer.v1.tar", whole],
    // docker-archive: gzip content under a plain tar media type.
    ["application/vnd.oci.image.layer.v1.tar", gzip(whole)],
  ];
  for (const [mediaType, blob] of blobs) {
    const sb = await makeSandbox();
    try {
      await extractLayer(
        decompressStream(mediaType, bytesStream(blob)),
        sb.rootfs,
        { asRoot: Deno.uid() === 0 },
      );
      assert.equal(
        await Deno.readTextFile(`${sb.rootfs}/a/one`),
        "1".repeat(5000),
        mediaType,
      );
      assert.equal(
        await Deno.readTextFile(`${sb.rootfs}/a/two`),
        "2",
        mediaType,
      );
    } finally {
      await sb.cleanup();
    }
  }
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("an error of the source after the last entry fails the layer", async () => {
  const sb = await makeSandbox();
  try {
    const boom = new Error("diff_id mismatch");
    const failing = new TransformStream<Uint8Array, Uint8Array>({
      flush() {
        throw boom;
      },
    });
    const error = await rejection(() =>
      extractLayer(
        layer([{ name: "a", content: "a" }]).pipeThrough(failing),
        sb.rootfs,
        { asRoot: Deno.uid() === 0 },
      )
    );
    assert.equal(error, boom);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("truncated and corrupt archives are LayerFormatErrors", async () => {
  const whole = tarBytes([{ name: "a", content: "x".repeat(3000) }]);
  const corrupt = whole.slice();
  corrupt[0] = 0x62; // the checksum no longer matches
  const garbage = concat(whole, new TextEncoder().encode("trailing junk"));
  for (
    const bytes of [whole.slice(0, 1500), whole.slice(0, 700), corrupt, garbage]
  ) {
    const sb = await makeSandbox();
    try {
      const error = await rejection(() =>
        extractLayer(bytesStream(bytes), sb.rootfs, {
          asRoot: Deno.uid() === 0,
        })
      );
      assert.ok(error instanceof LayerFormatError, String(error));
    } finally {
      await sb.cleanup();
    }
  }
});

Deno.test("an empty stream, or one without the end marker, is a complete layer", async () => {
  const whole = tarBytes([{ name: "a", content: "a" }, {
    name: "b/",
    type: "dir",
  }]);
  for (
    const bytes of [
      new Uint8Array(),
      whole.slice(0, whole.length - 1024),
      whole.slice(0, whole.length - 512),
    ]
  ) {
    const sb = await makeSandbox();
    try {
      const stats = await extractLayer(bytesStream(bytes), sb.rootfs, {
        asRoot: Deno.uid() === 0,
      });
      assert.equal(stats.entries, bytes.length === 0 ? 0 : 2);
    } finally {
      await sb.cleanup();
    }
  }
});
