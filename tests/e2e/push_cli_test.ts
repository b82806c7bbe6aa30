/**
 * `polythene push` as users run it: an image of the local image store goes
 * to a loopback `docker-registry`, then comes back by `polythene pull` on a
 * fresh store and runs, by `skopeo copy` to an OCI layout that `umoci
 * unpack` reads, and by `podman pull` + `create` + `export` (in a storage of
 * its own). Errors: an unknown image, a malformed DEST-REF.
 *
 * The first image is put in the local image store the way `commit` does it
 * (`writeBlob`, `addLocalImage`); the second is a real `polythene commit`
 * of an entry pulled from the registry and changed, whose base layers the
 * push mounts.
 *
 * The second test does the same as the unprivileged test user (bubblewrap,
 * a store of its own): pull, change, commit, push with the base mounted;
 * root pulls the result on a fresh store and runs it.
 *
 * Needs docker-registry, skopeo and umoci; the second test root, the user,
 * setpriv and bwrap.
 *
 * @module
 */

import assert from "node:assert/strict";
import { busyboxEntries } from "../../scripts/busybox_image.ts";
import { addLocalImage, writeBlob } from "../../src/image/local_images.ts";
import { assertIncludes } from "../helpers/assert.ts";
import {
  type CliOptions,
  runPolythene,
  sourceReadableBy,
} from "../helpers/cli.ts";
import { runOrThrow } from "../helpers/command.ts";
import {
  missingFor,
  onPath,
  stepNeeding,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { buildImage, type BuiltImage } from "../helpers/oci_image.ts";
import {
  podman,
  podmanStorage,
  resetPodmanStorage,
} from "../helpers/podman_storage.ts";
import { pullAndRunScript } from "../helpers/pull_and_run.ts";
import { explain, tempStore } from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { hostPlatform } from "../../src/image/platform.ts";

function missing(): string | undefined {
  const tools = ["skopeo", "umoci"].filter((t) => !onPath(t));
  return registryMissing() ??
    (tools.length ? `needs ${tools.join(", ")}` : undefined);
}

/** Puts `image` into the store's local image store under `ref`. */
async function seedLocalImage(
  store: string,
  image: BuiltImage,
  ref: string,
): Promise<void> {
  for (const bytes of image.blobs.values()) await writeBlob(store, bytes);
  const manifest = await writeBlob(store, image.bytes);
  assert.equal(manifest.digest, image.digest);
  await addLocalImage(store, {
    manifest: {
      mediaType: image.mediaType,
      digest: manifest.digest,
      size: manifest.size,
    },
    ref,
  });
}

testNeeding(
  missing(),
  "push CLI: push, pull on a fresh store and run; skopeo + umoci and podman read it",
  async (t) => {
    await using registry = await startRegistry();
    await using source = await tempStore();
    await using fresh = await tempStore();
    const image = await buildImage({
      platform: hostPlatform(),
      layers: [
        { entries: await busyboxEntries(), compression: "gzip" },
        {
          entries: [
            { name: "etc/provisioned", content: "provisioned once\n" },
            {
              name: "usr/bin/greet",
              type: "symlink",
              linkname: "/bin/busybox",
            },
          ],
          compression: "gzip",
        },
      ],
      config: { Env: ["PATH=/usr/bin:/bin", "GREETING=hi"] },
    });
    await seedLocalImage(source.store, image, "provisioned:1");
    const dest = `${registry.host}/test/provisioned:1`;

    await t.step("push prints REF@DIGEST on stdout", async () => {
      const pushed = await runPolythene([
        "push",
        "--store",
        source.store,
        "provisioned:1",
        dest,
      ]);
      assert.equal(pushed.code, 0, explain(pushed));
      assert.equal(pushed.stdout, `${dest}@${image.digest}\n`);
    });

    await t.step("pull on a fresh store, then run in it", async () => {
      assert.equal(
        await pullAndRunScript(
          fresh.store,
          dest,
          'cat /etc/provisioned; echo "$GREETING"',
        ),
        "provisioned once\nhi\n",
      );
    });

    await t.step(
      "commit a changed entry, push it (the base's layers mounted), pull it on a third store",
      async () => {
        const pulled = await runPolythene([
          "pull",
          "-q",
          "--store",
          fresh.store,
          dest,
        ]);
        assert.equal(pulled.code, 0, explain(pulled));
        const uuid = pulled.stdout.trim();
        const changed = await runPolythene([
          "exec",
          "--store",
          fresh.store,
          uuid,
          "--",
          "sh",
          "-c",
          "rm /etc/provisioned && echo second > /etc/second",
        ]);
        assert.equal(changed.code, 0, explain(changed));
        const next = `${registry.host}/test/next:1`;
        const committed = await runPolythene([
          "commit",
          "--store",
          fresh.store,
          uuid,
          next,
        ]);
        assert.equal(committed.code, 0, explain(committed));
        const pushed = await runPolythene([
          "push",
          "-v",
          "--store",
          fresh.store,
          next,
          next,
        ]);
        assert.equal(pushed.code, 0, explain(pushed));
        assert.equal(pushed.stdout, `${next}@${committed.stdout.trim()}\n`);
        assert.match(pushed.stderr, /mounted from test\/provisioned/);
        await using third = await tempStore();
        assert.equal(
          await pullAndRunScript(
            third.store,
            next,
            "cat /etc/second; test -e /etc/provisioned || echo deleted",
          ),
          "second\ndeleted\n",
        );
      },
    );

    await t.step("skopeo copy to an OCI layout, umoci unpack", async () => {
      const layout = `${fresh.dir}/layout`;
      const bundle = `${fresh.dir}/bundle`;
      await runOrThrow([
        "skopeo",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        `docker://${dest}`,
        `oci:${layout}:copied`,
      ]);
      await runOrThrow([
        "umoci",
        "unpack",
        ...(Deno.uid() === 0 ? [] : ["--rootless"]),
        "--image",
        `${layout}:copied`,
        bundle,
      ]);
      const rootfs = `${bundle}/rootfs`;
      assert.equal(
        await Deno.readTextFile(`${rootfs}/etc/provisioned`),
        "provisioned once\n",
      );
      assert.equal(
        await Deno.readLink(`${rootfs}/usr/bin/greet`),
        "/bin/busybox",
      );
      assert.equal(
        (await Deno.stat(`${rootfs}/bin/busybox`)).mode! & 0o777,
        0o755,
      );
    });

    const podmanStep = "podman pull, create and export read it";
    if (Deno.uid() !== 0 || !onPath("podman")) {
      await stepNeeding(t, "needs root and podman", podmanStep);
    } else {
      await t.step(podmanStep, async () => {
        // podman in a storage of its own, reset afterwards.
        const env = await podmanStorage(fresh.dir);
        try {
          await podman(env, "pull", "-q", "--tls-verify=false", dest);
          const container = await podman(env, "create", dest, "/bin/sh");
          const tar = `${fresh.dir}/exported.tar`;
          await podman(env, "export", "-o", tar, container);
          await podman(env, "rm", container);
          const tree = `${fresh.dir}/exported`;
          await Deno.mkdir(tree);
          await runOrThrow(["tar", "-xf", tar, "-C", tree]);
          assert.equal(
            await Deno.readTextFile(`${tree}/etc/provisioned`),
            "provisioned once\n",
          );
          assert.equal(
            await Deno.readLink(`${tree}/usr/bin/greet`),
            "/bin/busybox",
          );
        } finally {
          await resetPodmanStorage(env);
        }
      });
    }

    await t.step("errors: an unknown image, a malformed DEST-REF", async () => {
      const unknown = await runPolythene([
        "push",
        "--store",
        source.store,
        "nothing:here",
        dest,
      ]);
      assert.equal(unknown.code, 1, explain(unknown));
      assertIncludes(unknown.stderr, 'No local image for "nothing:here"');
      const bad = await runPolythene([
        "push",
        "--store",
        source.store,
        "provisioned:1",
        "Bad/Name",
      ]);
      assert.equal(bad.code, 2, explain(bad));
      assertIncludes(bad.stderr, 'Invalid DEST-REF "Bad/Name"');
    });
  },
);

const USER = testUser();

function userMissing(): string | undefined {
  return missingFor({
    root: true,
    user: true,
    programs: ["setpriv", "bwrap"],
    also: [registryMissing()],
  });
}

testNeeding(
  userMissing(),
  "push CLI as the test user over bubblewrap: pull, change, commit, push; a fresh root store pulls and runs it",
  async () => {
    const user = USER!;
    await using registry = await startRegistry();
    await using mine = await tempStore(user);
    await using fresh = await tempStore();
    const source = await sourceReadableBy(user);
    const cli: CliOptions = { user, source: source.dir };
    try {
      const base = await buildImage({
        platform: hostPlatform(),
        layers: [{ entries: await busyboxEntries(), compression: "gzip" }],
      });
      await pushImage(registry, "test/base", "1", base);
      const pulled = await runPolythene(
        ["pull", "-q", "--store", mine.store, `${registry.host}/test/base:1`],
        cli,
      );
      assert.equal(pulled.code, 0, explain(pulled));
      const uuid = pulled.stdout.trim();
      const changed = await runPolythene([
        "exec",
        "--store",
        mine.store,
        "--isolation",
        "bubblewrap",
        uuid,
        "--",
        "sh",
        "-c",
        "echo by the user > /etc/by-user && rm /etc/os-release",
      ], cli);
      assert.equal(changed.code, 0, explain(changed));
      const ref = `${registry.host}/test/user:1`;
      const committed = await runPolythene(
        ["commit", "--store", mine.store, uuid, ref],
        cli,
      );
      assert.equal(committed.code, 0, explain(committed));
      const pushed = await runPolythene(
        ["push", "-v", "--store", mine.store, ref, ref],
        cli,
      );
      assert.equal(pushed.code, 0, explain(pushed));
      assert.equal(pushed.stdout, `${ref}@${committed.stdout.trim()}\n`);
      assert.match(pushed.stderr, /mounted from test\/base/);

      assert.equal(
        await pullAndRunScript(
          fresh.store,
          ref,
          "cat /etc/by-user; test -e /etc/os-release || echo deleted",
        ),
        "by the user\ndeleted\n",
      );
    } finally {
      await source.cleanup();
    }
  },
);
