/**
 * `polythene pull --puller podman` and `containers-storage:REF`, through the
 * real CLI and real podman against a real registry: the tree is the same as
 * the native puller's, a failed podman pull is one clear line with no
 * entry, and no podman container is left behind. Podman runs on its own
 * temporary storage (vfs, via `CONTAINERS_STORAGE_CONF`), removed after.
 *
 * Needs root, podman and docker-registry; under `CI=true` a missing one
 * fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CliResult, runPolythene } from "../helpers/cli.ts";
import { missingFor, testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  podman,
  podmanStorage,
  resetPodmanStorage,
} from "../helpers/podman_storage.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertEntry,
  assertFailed,
  assertPulled,
  busyboxEntries,
  entries,
  explain,
  snapshot,
  tempStore,
} from "../helpers/pull_checks.ts";

const MISSING = missingFor({
  root: true,
  programs: ["podman"],
  also: [registryMissing()],
});

/** podman's containers, as `podman ps -a` lists them in `env`. */
async function podmanContainers(env: Record<string, string>) {
  return (await podman(env, "ps", "--all", "--quiet"))
    .split("\n").filter(Boolean);
}

testNeeding(
  MISSING,
  "pull: the podman puller gives the native tree and leaves no container",
  async (t) => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    const env = await podmanStorage(files.dir);
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(),
          { name: "etc/", type: "dir" },
          { name: "etc/hello", content: "hello\n" },
          { name: "etc/gone", content: "gone\n" },
          { name: "etc/hard", type: "hardlink", linkname: "etc/hello" },
          { name: "opaque/", type: "dir" },
          { name: "opaque/lower", content: "lower\n" },
          { name: "usr/", type: "dir" },
          { name: "usr/suid", content: "s\n", mode: 0o4755, uid: 10, gid: 20 },
        ],
      }, {
        compression: "zstd",
        entries: [
          { name: "etc/.wh.gone" },
          { name: "opaque/", type: "dir" },
          { name: "opaque/.wh..wh..opq" },
          { name: "opaque/upper", content: "upper\n" },
          { name: "lib", type: "symlink", linkname: "usr" },
        ],
      }],
      config: {
        Env: ["PATH=/bin", "GREETING=from the image"],
        WorkingDir: "/opaque",
        Cmd: ["/bin/sh"],
        Labels: { "org.example.role": "test" },
      },
    });
    await pushImage(registry, "test/podman", "1", image);
    const ref = `${registry.host}/test/podman:1`;
    const store = files.store;
    const pull = (args: string[]): Promise<CliResult> =>
      runPolythene(["pull", "-q", "--store", store, ...args], { env });
    const inspect = async (uuid: string) => {
      const shown = await runPolythene([
        "inspect",
        "--json",
        "--store",
        store,
        uuid,
      ]);
      assert.equal(shown.code, 0, explain(shown));
      const entry = JSON.parse(shown.stdout);
      return {
        config: entry.config,
        digest: entry.digest,
        platform: entry.platform,
      };
    };
    const pwdAndEnv = async (uuid: string) => {
      const ran = await runPolythene([
        "exec",
        "--store",
        store,
        uuid,
        "--",
        "sh",
        "-c",
        "pwd; env | sort",
      ]);
      assert.equal(ran.code, 0, explain(ran));
      return ran.stdout;
    };

    try {
      const native = assertPulled(await pull([ref]));
      const want = await snapshot(`${store}/${native}`);
      const facts = await inspect(native);
      assert.deepEqual(facts.config.Env, [
        "PATH=/bin",
        "GREETING=from the image",
      ]);
      assert.equal(facts.config.WorkingDir, "/opaque");
      assert.match(facts.digest, /^sha256:[0-9a-f]{64}$/);
      const ran = await pwdAndEnv(native);
      assert.match(ran, /^\/opaque\n/);
      assert.match(ran, /^GREETING=from the image$/m);
      assert.equal(want["etc/gone"], undefined);
      assert.equal(want["opaque/lower"], undefined);

      await t.step(
        "--puller podman gives the same tree and metadata, over plain http on loopback without --tls-verify=false",
        async () => {
          const result = await pull(["--puller", "podman", ref]);
          const uuid = assertPulled(result);
          assert.deepEqual(await snapshot(`${store}/${uuid}`), want);
          assert.deepEqual(await inspect(uuid), facts);
          assert.equal(await pwdAndEnv(uuid), ran);
          await assertEntry(store, uuid, { image: ref, puller: "podman" });
          assert.deepEqual(
            await podmanContainers(env),
            [],
            "no container left",
          );
        },
      );

      await t.step("containers-storage:REF after a podman pull", async () => {
        const image = `containers-storage:${ref}`;
        const uuid = assertPulled(await pull([image]));
        assert.deepEqual(await snapshot(`${store}/${uuid}`), want);
        assert.deepEqual(await inspect(uuid), facts);
        await assertEntry(store, uuid, { image, puller: "podman" });
        const ran = await runPolythene(
          [
            "exec",
            "--store",
            store,
            uuid,
            "--",
            "cat",
            "/etc/hard",
            "/opaque/upper",
          ],
        );
        assert.equal(ran.code, 0, explain(ran));
        assert.equal(ran.stdout, "hello\nupper\n");
        assert.deepEqual(await podmanContainers(env), [], "no container left");
      });

      await t.step("a podman pull of a missing tag fails clearly", async () => {
        const before = await entries(store);
        const image = `${registry.host}/test/podman:missing`;
        const result = await pull([
          "--puller",
          "podman",
          "--tls-verify=false",
          image,
        ]);
        await assertFailed(result, { store, image, before });
        assert.deepEqual(await podmanContainers(env), []);
      });

      await t.step(
        "containers-storage: of an absent image fails clearly",
        async () => {
          const before = await entries(store);
          const image = "containers-storage:localhost/polythene/absent:1";
          const result = await pull([image]);
          // podman's message names the image without the transport.
          const named = image.slice("containers-storage:".length);
          await assertFailed(result, { store, image: named, before });
          assert.deepEqual(await podmanContainers(env), []);
        },
      );
    } finally {
      // Drop podman's images and containers from the temporary storage.
      await resetPodmanStorage(env);
    }
  },
);
