/**
 * The layer-stack cache, through the real CLI and a real registry on
 * loopback: the first pull of an image extracts and leaves a marker, the
 * second builds the stack and copies it, the third copies it. Every entry
 * (and a clone) is the same tree as the cold pull, with mtimes and hardlink
 * identity; a write in one entry changes neither the cache nor another
 * entry; the cache is private; prune removes a stack with the last entry
 * that refers to its layers. Unprivileged pulls keep their owner table.
 *
 * Needs root and docker-registry (and the test user for the unprivileged
 * step); under `CI=true` a missing one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliOptions,
  runPolythene,
  sourceReadableBy,
} from "../helpers/cli.ts";
import { missingFor, testNeeding, testUser } from "../helpers/fixtures.ts";
import { buildImage, type BuiltImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertPulled,
  busyboxEntries,
  explain,
  readMetadata,
  snapshot,
  tempStore,
} from "../helpers/pull_checks.ts";

const USER = testUser();
const MISSING = missingFor({
  root: true,
  user: true,
  also: [registryMissing()],
});

const T = 1_600_000_000;

function image(): Promise<BuiltImage> {
  return buildImage({
    layers: [
      {
        compression: "gzip",
        entries: [
          ...busyboxEntries(),
          { name: "etc/", type: "dir", mtime: T },
          { name: "etc/hello", content: "hello\n", mtime: T + 1 },
          { name: "etc/gone", content: "whited out\n" },
          { name: "usr/", type: "dir", mtime: T + 2 },
          { name: "usr/bin/", type: "dir", mode: 0o555, mtime: T + 3 },
          { name: "usr/bin/suid", content: "s\n", mode: 0o4755 },
          { name: "usr/bin/link", type: "hardlink", linkname: "usr/bin/suid" },
          { name: "home/", type: "dir" },
          { name: "home/u/", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
          { name: "home/u/f", content: "f\n", uid: 1000, gid: 1000 },
          { name: "dev/", type: "dir" },
          { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
          // Read on the host, it would point at the host's file: copies
          // must keep it a link, never follow it.
          { name: "etc/mtab", type: "symlink", linkname: "/etc/passwd" },
        ],
      },
      {
        compression: "none",
        entries: [
          { name: "etc/", type: "dir", mtime: T + 4 },
          { name: "etc/.wh.gone", content: "" },
          { name: "etc/new", content: "new\n", mtime: T + 5 },
        ],
      },
    ],
    config: { Env: ["PATH=/bin"], Cmd: ["sh"] },
  });
}

/** Names in `STORE/.polythene/stacks`, sorted. */
async function stackNames(store: string): Promise<string[]> {
  try {
    const names = await Array.fromAsync(
      Deno.readDir(`${store}/.polythene/stacks`),
      (e) => e.name,
    );
    return names.sort();
  } catch {
    return [];
  }
}

/**
 * {@linkcode snapshot} with mtimes, except those of the directories pull
 * makes itself (`/proc`, `/tmp`: their mtime is the pull's).
 */
async function tree(root: string): Promise<Record<string, string>> {
  const out = await snapshot(root, { mtimes: true });
  for (const made of ["proc", "tmp"]) {
    if (out[made]) out[made] = out[made].replace(/ @\d+$/, "");
  }
  return out;
}

async function pullVerbose(
  store: string,
  ref: string,
  options: CliOptions = {},
): Promise<{ uuid: string; log: string }> {
  const result = await runPolythene(
    ["pull", "--verbose", "--store", store, ref],
    options,
  );
  return { uuid: assertPulled(result), log: result.stderr };
}

testNeeding(
  MISSING,
  "pull: warm pulls and clones copy the layer-stack cache",
  async (t) => {
    await using registry = await startRegistry();
    const built = await image();
    await pushImage(registry, "test/stacks", "1", built);
    const ref = `${registry.host}/test/stacks:1`;

    await t.step("as root", async () => {
      await using files = await tempStore();
      const store = files.store;
      const entry = (uuid: string) => tree(`${store}/${uuid}`);

      const cold = await pullVerbose(store, ref);
      assert.doesNotMatch(cold.log, /layer stack/);
      const key = (await stackNames(store)).find((n) => n.endsWith(".seen"))
        ?.replace(/\.seen$/, "");
      assert.match(key ?? "", /^root-[0-9a-f]{64}$/, "a marker, no stack");
      assert.deepEqual(await stackNames(store), [`${key}.seen`]);
      const reference = await entry(cold.uuid);
      assert.equal(reference["etc/gone"], undefined, "the whiteout applied");
      assert.match(reference["usr/bin/link"]!, / =usr\/bin\/link$/);
      assert.equal(reference["etc/mtab"], "symlink -> /etc/passwd");

      const second = await pullVerbose(store, ref);
      assert.match(second.log, /building the layer stack/);
      assert.match(second.log, /copied the cached layer stack/);
      const third = await pullVerbose(store, ref);
      assert.doesNotMatch(third.log, /building/);
      assert.match(third.log, /copied the cached layer stack/);
      assert.doesNotMatch(third.log, /layer 1\/2/, "nothing extracted");
      assert.deepEqual(await entry(second.uuid), reference);
      assert.deepEqual(await entry(third.uuid), reference);
      assert.deepEqual(
        (await readMetadata(store, third.uuid)).size,
        (await readMetadata(store, cold.uuid)).size,
      );

      // The cache: private, the same tree, sharing no inode with entries.
      const stacks = `${store}/.polythene/stacks`;
      assert.equal((await Deno.stat(stacks)).mode! & 0o777, 0o700);
      const cache = `${stacks}/${key}/rootfs`;
      const cached = await snapshot(cache, { mtimes: true });
      // What pull adds to every entry, after the copy.
      const { proc: _p, tmp: _t, ...image } = reference;
      assert.deepEqual(cached, image);
      const suid = await Deno.lstat(`${store}/${third.uuid}/usr/bin/suid`);
      assert.equal(suid.nlink, 2, "linked to its image twin only");
      assert.notEqual(
        suid.ino,
        (await Deno.lstat(`${cache}/usr/bin/suid`)).ino,
      );

      // A write in one entry changes neither the cache nor another entry.
      const cloned = await runPolythene([
        "clone",
        "--store",
        store,
        third.uuid,
      ]);
      assert.equal(cloned.code, 0, explain(cloned));
      const clone = cloned.stdout.trim();
      assert.deepEqual(await entry(clone), reference, "clone keeps the tree");
      for (const uuid of [third.uuid, clone]) {
        const root = `${store}/${uuid}`;
        await Deno.writeTextFile(`${root}/etc/hello`, "changed\n", {
          append: true,
        });
        await Deno.writeTextFile(`${root}/usr/bin/link`, "x", { append: true });
        await Deno.chmod(`${root}/home/u/f`, 0o600);
      }
      assert.deepEqual(await snapshot(cache, { mtimes: true }), cached);
      assert.deepEqual(await entry(second.uuid), reference);
      assert.notDeepEqual(await entry(third.uuid), reference);

      // A dead pull's unfinished stack is swept by prune.
      const dead = `${stacks}/${key}.01900000-0000-7000-8000-000000000000.tmp`;
      await Deno.mkdir(`${dead}/rootfs`, { recursive: true });
      await Deno.writeTextFile(`${dead}/rootfs/half`, "x");

      // A stack goes with the last entry that refers to its layers.
      const partial = await runPolythene([
        "rm",
        "--store",
        store,
        cold.uuid,
        second.uuid,
      ]);
      assert.equal(partial.code, 0, explain(partial));
      let pruned = await runPolythene(["prune", "--json", "--store", store]);
      assert.equal(JSON.parse(pruned.stdout).stacks, 0, explain(pruned));
      assert.ok((await stackNames(store)).includes(key!));
      assert.ok(!(await stackNames(store)).some((n) => n.endsWith(".tmp")));
      pruned = await runPolythene([
        "prune",
        "--all",
        "--json",
        "--store",
        store,
      ]);
      assert.equal(JSON.parse(pruned.stdout).stacks, 1, explain(pruned));
      assert.deepEqual(await stackNames(store), []);
    });

    await t.step("as an unprivileged user", async () => {
      const user = USER!;
      await using files = await tempStore(user);
      const source = await sourceReadableBy(user);
      try {
        const options: CliOptions = { user, source: source.dir };
        const uuids: string[] = [];
        for (let i = 0; i < 3; i++) {
          uuids.push((await pullVerbose(files.store, ref, options)).uuid);
        }
        const names = await stackNames(files.store);
        assert.ok(names.some((n) => /^user-[0-9a-f]{64}$/.test(n)), `${names}`);
        const trees = await Promise.all(
          uuids.map((u) => tree(`${files.store}/${u}`)),
        );
        assert.deepEqual(trees[2], trees[0]);
        assert.equal(
          trees[0]!["usr/bin/suid"]!.split(" ")[2],
          `${user.uid}:${user.gid}`,
        );
        const owners = await Promise.all(
          uuids.map(async (u) =>
            (await readMetadata(files.store, u)).ownership
          ),
        );
        assert.ok(owners[0] !== undefined, "an owner table");
        assert.deepEqual(owners[2], owners[0]);
      } finally {
        await source.cleanup();
      }
    });
  },
);
