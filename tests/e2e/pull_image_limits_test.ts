/**
 * Caps on the whole image through the real CLI: many small layers that
 * together expand past `--max-image-size` or hold more than
 * `--max-image-entries`, more layers than `--max-layers` (and than the
 * default), and a store on a small tmpfs that cannot hold the image. Each is
 * refused with one line and leaves nothing in the store; what the layer
 * sizes already tell is refused before anything is written.
 *
 * The tmpfs case mounts it in a throwaway mount namespace (`unshare
 * --mount`, needs root), so the host never sees it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import {
  buildImage,
  type LayerSpec,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import {
  assertFailed,
  assertPulled,
  explain,
  noise,
  type TempStore,
  tempStore,
} from "../helpers/pull_checks.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

/** As root, the CLI runs in the jail: the host read-only but for `dir`. */
function jailed(dir: string) {
  return canJail() ? { prefix: jailPrefix([dir]), env: { TMPDIR: dir } } : {};
}

const KiB = 1024;
const MiB = 1024 * KiB;

async function layout(tmp: TempStore, layers: LayerSpec[]): Promise<string> {
  const image = await buildImage({ layers });
  const dir = `${tmp.dir}/layout-${crypto.randomUUID()}`;
  await writeOciLayout(dir, image, "v1");
  return `oci:${dir}:v1`;
}

function pull(tmp: TempStore, image: string, ...options: string[]) {
  return runPolythene(
    ["pull", "-q", "--store", tmp.store, ...options, image],
    jailed(tmp.dir),
  );
}

/** `count` gzip layers, each one file of `size` zero bytes (a tiny blob). */
function zeroLayers(count: number, size: number): LayerSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    compression: "gzip" as const,
    entries: [{ name: `f${i}`, content: new Uint8Array(size) }],
  }));
}

Deno.test("pull: small layers that together expand past --max-image-size are refused", async () => {
  await using tmp = await tempStore();
  // Eight layers of 256 KiB each: every one is small, together 2 MiB.
  const image = await layout(tmp, zeroLayers(8, 256 * KiB));
  await assertFailed(await pull(tmp, image, "--max-image-size", "1M"), {
    store: tmp.store,
    image,
    matches: /layer 4: the image expands to more than --max-image-size/,
  });
  // The same image under a cap it fits.
  assertPulled(await pull(tmp, image, "--max-image-size", "4M"));
});

Deno.test("pull: layers that together hold more than --max-image-entries are refused", async () => {
  await using tmp = await tempStore();
  const layers: LayerSpec[] = Array.from({ length: 4 }, (_, i) => ({
    compression: "gzip",
    entries: Array.from({ length: 20 }, (_, k) => ({
      name: `l${i}-${k}`,
      content: "x",
    })),
  }));
  const image = await layout(tmp, layers);
  await assertFailed(await pull(tmp, image, "--max-image-entries", "50"), {
    store: tmp.store,
    image,
    matches: /layer 3: the image has more than --max-image-entries \(50\)/,
  });
});

Deno.test("pull: more layers than the cap is refused before anything is written", async () => {
  await using tmp = await tempStore();
  const image = await layout(tmp, zeroLayers(129, 1));
  // The default cap is 128 layers.
  await assertFailed(await pull(tmp, image), {
    store: tmp.store,
    image,
    matches: /the image has 129 layers, more than --max-layers \(128\)/,
  });
  await assertFailed(await pull(tmp, image, "--max-layers", "100"), {
    store: tmp.store,
    image,
    matches: /more than --max-layers \(100\)/,
  });
  assertPulled(await pull(tmp, image, "--max-layers", "200"));
});

Deno.test("pull: a bad cap value is a usage error", async () => {
  await using tmp = await tempStore();
  for (
    const [option, value] of [
      ["--max-image-size", "0"],
      ["--max-image-size", "12X"],
      ["--max-layers", "0"],
      ["--max-image-entries", "1.5"],
    ]
  ) {
    const result = await pull(tmp, "oci:/nonexistent:v1", option!, value!);
    assert.equal(result.code, 2, explain(result));
    assert.match(result.stderr, new RegExp(`Invalid ${option} "`));
  }
});

const NEEDS_MOUNT = Deno.uid() !== 0
  ? "root (mount)"
  : onPath("unshare")
  ? undefined
  : "unshare";

/**
 * Pulls into a store on a 4 MiB tmpfs mounted in a private mount
 * namespace; returns the result and what the store held afterwards.
 */
async function pullOnSmallTmpfs(tmp: TempStore, image: string) {
  const id = crypto.randomUUID();
  const mount = `${tmp.dir}/small-${id}`;
  const listing = `${tmp.dir}/listing-${id}`;
  await Deno.mkdir(mount);
  const store = `${mount}/store`;
  const script = `mount -t tmpfs -o size=4m polythene-test "${mount}" || exit 99
"$@"; rc=$?
{ ls -A "${store}"; echo --; ls -A "${store}/.polythene/staging"; } \\
  > "${listing}" 2>/dev/null
exit $rc`;
  const result = await runPolythene(["pull", "-q", "--store", store, image], {
    // The jail is a mount namespace of its own: the tmpfs lives and dies
    // with it. Not root: no jail, so a namespace just for the tmpfs.
    prefix: [
      ...(canJail()
        ? jailPrefix([tmp.dir])
        : ["unshare", "--mount", "--propagation", "private"]),
      "sh",
      "-c",
      script,
      "sh",
    ],
    env: { TMPDIR: tmp.dir },
  });
  return { result, listing: await Deno.readTextFile(listing) };
}

testNeeding(
  NEEDS_MOUNT,
  "pull: an image that cannot fit in the store's filesystem is refused",
  async (t) => {
    await using tmp = await tempStore();
    await t.step("known from the layer sizes: before writing", async () => {
      // An uncompressed 6 MiB layer: its size is its expanded size.
      const image = await layout(tmp, [{
        compression: "none",
        entries: [{ name: "big", content: noise(6 * MiB) }],
      }]);
      const { result, listing } = await pullOnSmallTmpfs(tmp, image);
      assert.equal(result.code, 1, explain(result));
      assert.match(
        result.stderr,
        /^polythene: Cannot pull "[^"]+": the image needs at least \d+ bytes \(its layers\), and the store's filesystem has \d+ free\n/,
      );
      assert.equal(listing, ".polythene\n--\n", "nothing left in the store");
    });
    await t.step(
      "known only while expanding: stopped before the disk fills",
      async () => {
        // 6 MiB of zeros compress to a few KiB: only the running total tells.
        const image = await layout(tmp, zeroLayers(3, 2 * MiB));
        const { result, listing } = await pullOnSmallTmpfs(tmp, image);
        assert.equal(result.code, 1, explain(result));
        assert.match(
          result.stderr,
          /^polythene: Cannot pull "[^"]+": layer \d: the image does not fit in the free space of the store's filesystem \(\d+ bytes\)\n/,
        );
        assert.equal(listing, ".polythene\n--\n", "nothing left in the store");
      },
    );
  },
);
