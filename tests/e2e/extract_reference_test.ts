/**
 * Extraction (with its pool of concurrent writes) against reference
 * extractors, on the same layers: GNU `tar -x` on the single-layer Debian
 * image, and `umoci unpack` on layers with whiteouts, opaque directories
 * and type changes (GNU tar would write `.wh.*` files literally). The trees
 * must be identical: paths, types, modes, owners as root, contents, link
 * targets, hardlink identity and mtimes.
 *
 * Needs root, the cached Debian image (`scripts/setup.sh` builds it) and
 * umoci; under `CI=true` a missing one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decompressStream, extractLayer } from "../../src/image/layers/mod.ts";
import { cachedDebianImage } from "../../scripts/debian_image.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import { snapshot } from "../helpers/pull_checks.ts";
import type { TarEntry } from "../helpers/tar_writer.ts";
import { layer } from "../unit/layers/_sandbox.ts";

const DEBIAN = await cachedDebianImage();

function missing(...needs: [string, boolean][]): string | undefined {
  const absent = needs.filter(([, ok]) => !ok).map(([what]) => what);
  return absent.length ? `needs ${absent.join(", ")}` : undefined;
}

async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    out.code,
    0,
    `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
  );
}

async function withDirs(
  fn: (a: string, b: string) => Promise<void>,
): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "polythene-reference-" });
  try {
    await Deno.mkdir(`${base}/a`);
    await Deno.mkdir(`${base}/b`);
    await fn(`${base}/a`, `${base}/b`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

testNeeding(
  missing(
    ["root (uid 0)", Deno.uid() === 0],
    ["the cached Debian image (scripts/setup.sh)", DEBIAN !== undefined],
    ["tar", onPath("tar")],
  ),
  "extraction of the Debian image equals GNU tar's",
  async () => {
    await withDirs(async (ours, tars) => {
      const file = await Deno.open(DEBIAN!.tarGz);
      const stats = await extractLayer(
        decompressStream(
          "application/vnd.oci.image.layer.v1.tar+gzip",
          file.readable,
        ),
        ours,
        { asRoot: true },
      );
      assert.ok(stats.entries > 5000, `${stats.entries} entries`);
      assert.ok(stats.hardlinks > 0 && stats.symlinks > 0);
      await run(["tar", "-xzf", DEBIAN!.tarGz, "--numeric-owner", "-C", tars]);
      const expected = await snapshot(tars, { mtimes: true });
      assert.ok(Object.keys(expected).length > 5000);
      assert.deepEqual(await snapshot(ours, { mtimes: true }), expected);
    });
  },
);

const T1 = 1_600_000_000;
const T2 = 1_650_000_000;
const files = (dir: string, n: number, mtime: number): TarEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `${dir}/f${i}`,
    content: `${dir} ${i}\n`,
    mode: i % 3 ? 0o644 : 0o755,
    uid: i % 5,
    gid: i % 7,
    mtime,
  }));

const LAYERS: TarEntry[][] = [
  [
    { name: "etc/", type: "dir", mtime: T1 },
    { name: "etc/hostname", content: "old\n", mtime: T1 },
    { name: "etc/passwd", content: "root:x:0:0\n", mtime: T1 },
    { name: "usr/", type: "dir", mtime: T1 },
    { name: "usr/bin/", type: "dir", mtime: T1 },
    ...files("usr/bin", 40, T1),
    { name: "usr/bin/tool", content: "v1", mode: 0o755, mtime: T1 },
    {
      name: "usr/bin/tool-link",
      type: "hardlink",
      linkname: "usr/bin/tool",
      mtime: T1,
    },
    { name: "usr/bin/su", content: "su", mode: 0o4755, mtime: T1 },
    { name: "bin", type: "symlink", linkname: "usr/bin", mtime: T1 },
    { name: "opt/", type: "dir", mtime: T1 },
    { name: "opt/app/", type: "dir", mtime: T1 },
    ...files("opt/app", 30, T1),
    { name: "opt/app/sub/", type: "dir", mtime: T1 },
    { name: "opt/app/sub/c", content: "c", mtime: T1 },
    { name: "var/", type: "dir", mtime: T1 },
    { name: "var/x/", type: "dir", mtime: T1 },
    { name: "var/x/f", content: "f", mtime: T1 },
    { name: "data/", type: "dir", mtime: T1 },
    { name: "data/file1", content: "was a file", mtime: T1 },
    { name: "lnk", type: "symlink", linkname: "etc", mtime: T1 },
    { name: "keep/", type: "dir", mtime: T1 },
    { name: "keep/old", content: "old", mtime: T1 },
    {
      name: "home/",
      type: "dir",
      mode: 0o755,
      mtime: T1,
    },
    {
      name: "home/user/",
      type: "dir",
      mode: 0o750,
      uid: 1000,
      gid: 1000,
      mtime: T1,
    },
    ...files("home/user", 20, T1),
  ],
  [
    { name: "etc/", type: "dir", mtime: T2 },
    { name: "etc/.wh.hostname" },
    { name: "etc/.wh.passwd" },
    { name: "etc/passwd", content: "root:x:0:0:new\n", mtime: T2 },
    { name: "opt/", type: "dir", mtime: T2 },
    { name: "opt/app/", type: "dir", mtime: T2 },
    { name: "opt/app/.wh..wh..opq" },
    { name: "opt/app/new", content: "new", mtime: T2 },
    { name: "var/", type: "dir", mtime: T2 },
    { name: "var/x", content: "dir became file", mtime: T2 },
    { name: "data/", type: "dir", mtime: T2 },
    { name: "data/file1/", type: "dir", mtime: T2 },
    { name: "data/file1/inner", content: "file became dir", mtime: T2 },
    { name: "lnk/", type: "dir", mode: 0o700, mtime: T2 },
    { name: "usr/", type: "dir", mtime: T2 },
    { name: "usr/bin/", type: "dir", mtime: T2 },
    { name: "usr/bin/tool", content: "v2", mode: 0o755, mtime: T2 },
    { name: "usr/bin/f3", type: "symlink", linkname: "f4", mtime: T2 },
    { name: "keep/", type: "dir", mtime: T2 },
    { name: "keep/.wh.old" },
    { name: "keep/new", content: "new", mtime: T2 },
    { name: "home/", type: "dir", mtime: T2 },
    { name: "home/.wh.user" },
  ],
];

testNeeding(
  missing(["root (uid 0)", Deno.uid() === 0], ["umoci", onPath("umoci")]),
  "extraction of whiteouts and type changes equals umoci's",
  async () => {
    await withDirs(async (ours, layout) => {
      for (const entries of LAYERS) {
        await extractLayer(layer(entries), ours, { asRoot: true });
      }
      const image = await buildImage({
        layers: LAYERS.map((entries) => ({ compression: "gzip", entries })),
      });
      await writeOciLayout(`${layout}/oci`, image, "t");
      await run([
        "umoci",
        "unpack",
        "--image",
        `${layout}/oci:t`,
        `${layout}/bundle`,
      ]);
      const expected = await snapshot(`${layout}/bundle/rootfs`, {
        mtimes: true,
      });
      assert.equal(expected["etc/hostname"], undefined, "whited out");
      assert.match(expected["var/x"]!, /^file /, "a type change");
      assert.deepEqual(await snapshot(ours, { mtimes: true }), expected);
    });
  },
);
