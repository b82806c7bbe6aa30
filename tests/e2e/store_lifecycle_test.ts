/**
 * The store's lifecycle through the real CLI, as separate processes:
 * list, inspect, rm, prune, clone and `exec --ephemeral` on entries pulled
 * from a real registry, legacy entries, per-entry locks (two prunes at
 * once, list during pull, 8 ephemeral runs at once; rm and prune during
 * exec are in `store_locks_test.ts`), ephemeral
 * clean-up after SIGINT and timeout, and refusal of unsafe store roots.
 *
 * Needs docker-registry (and zstd) and a working backend; under `CI=true`
 * a missing one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import {
  makeBusyboxStore,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { flocksOn } from "../helpers/locks.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  assertPulled,
  busyboxEntries,
  entries,
  explain,
  stagingLeftovers,
  tempStore,
  UUID_V7,
} from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const MISSING = registryMissing();

async function ok(args: string[]): Promise<string> {
  const result = await runPolythene(args);
  assert.equal(result.code, 0, explain(result));
  return result.stdout;
}

/** True when a run of `store` has an overlay's upper directory. */
async function overlayUpper(store: string): Promise<boolean> {
  try {
    for await (const run of Deno.readDir(`${store}/.polythene/run`)) {
      const upper = `${store}/.polythene/run/${run.name}/overlay/upper`;
      if (await Deno.lstat(upper).then(() => true, () => false)) return true;
    }
  } catch {
    // No run yet.
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

testNeeding(
  MISSING,
  "store: list, inspect, clone, rm and prune on pulled entries",
  async (t) => {
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [
        { compression: "gzip", entries: busyboxEntries() },
        {
          compression: "gzip",
          entries: [
            { name: "etc/", type: "dir" },
            {
              name: "etc/hello",
              content: "hello\n",
            },
            { name: "ro/", type: "dir", mode: 0o555 },
            {
              name: "ro/file",
              content: "x",
            },
          ],
        },
      ],
      config: { Env: ["PATH=/bin"], WorkingDir: "/etc", Cmd: ["sh"] },
    });
    await pushImage(registry, "test/life", "1", image);
    const ref = `${registry.host}/test/life:1`;
    await using files = await tempStore();
    const store = files.store;
    const uuid = assertPulled(
      await runPolythene(["pull", "-q", "--store", store, ref]),
    );

    await t.step("the store root is created with mode 0700", async () => {
      assert.equal((await Deno.stat(store)).mode! & 0o777, 0o700);
    });

    await t.step("list --json and inspect --json round-trip", async () => {
      const list = JSON.parse(await ok(["list", "--json", "-s", store]));
      assert.equal(list.schema, 1);
      assert.equal(list.entries.length, 1);
      const [entry] = list.entries;
      assert.equal(entry.uuid, uuid);
      assert.equal(entry.kind, "pulled");
      assert.equal(entry.image, ref);
      assert.equal(entry.digest, image.digest);
      assert.equal(typeof entry.size, "number");
      assert.ok(entry.size > 0);
      // The manifest, the config and the layers.
      assert.deepEqual(
        [...entry.blobs].sort(),
        [
          image.digest,
          image.configDescriptor.digest,
          ...image.layers.map((l) => l.descriptor.digest),
        ].sort(),
      );
      const inspected = JSON.parse(
        await ok(["inspect", "--json", "-s", store, uuid]),
      );
      assert.deepEqual({ ...inspected, schema: undefined }, {
        ...entry,
        schema: undefined,
      });
      assert.equal(inspected.config.WorkingDir, "/etc");
      assert.deepEqual(inspected.config.Cmd, ["sh"]);
      const table = await ok(["ls", "-s", store]);
      assert.match(
        table,
        /^UUID\s+IMAGE\s+REFERENCE\s+DIGEST\s+PLATFORM\s+CREATED\s+SIZE\s+BACKEND\s+KIND\n/,
      );
      assert.equal(entry.lastBackend, null, "no command has run in it yet");
      assert.match(
        table,
        new RegExp(
          `${uuid}\\s+\\S+life:1\\s+\\S+life:1\\s+sha256:[0-9a-f]{12}\\s`,
        ),
      );
      assert.match(table, /\d(\.\d)? (B|KiB|MiB)/);
    });

    await t.step("list shows the backend that last ran a command", async () => {
      await ok([
        "exec",
        "-s",
        store,
        "--isolation",
        "proot",
        uuid,
        "--",
        "echo",
      ]);
      const [entry] = JSON.parse(await ok(["list", "--json", "-s", store]))
        .entries;
      assert.equal(entry.lastBackend, "proot");
      assert.match(
        await ok(["ls", "-s", store]),
        new RegExp(`${uuid}\\s.*\\sproot\\s+pulled\\n`),
      );
    });

    let clone = "";
    await t.step("clone copies the tree and records its parent", async () => {
      clone = (await ok(["clone", "-s", store, uuid])).trim();
      assert.match(clone, UUID_V7);
      assert.equal(
        await Deno.readTextFile(`${store}/${clone}/etc/hello`),
        "hello\n",
      );
      assert.equal(
        (await Deno.stat(`${store}/${clone}/ro`)).mode! & 0o777,
        0o555,
      );
      const info = JSON.parse(
        await ok(["inspect", "--json", "-s", store, clone]),
      );
      assert.equal(info.kind, "clone");
      assert.equal(info.parent, uuid);
      assert.equal(info.image, ref);
    });

    await t.step("rm removes a clone with a mode 0555 directory", async () => {
      await ok(["rm", "-s", store, clone]);
      assert.deepEqual(await entries(store), [uuid]);
      assert.equal(
        await exists(`${store}/.polythene/entries/${clone}.json`),
        false,
      );
      const again = await runPolythene(["remove", "-s", store, clone]);
      assert.equal(again.code, 1, explain(again));
      assert.match(again.stderr, /^polythene: No such UUID rootfs/);
    });

    await t.step("prune --older-than uses real timestamps", async () => {
      const old = (await ok(["clone", "-s", store, uuid])).trim();
      const week = new Date(Date.now() - 8 * 86_400_000);
      await Deno.utime(`${store}/${old}`, week, week);
      const dry = JSON.parse(
        await ok([
          "prune",
          "--older-than",
          "7d",
          "--dry-run",
          "--json",
          "-s",
          store,
        ]),
      );
      assert.equal(dry.dryRun, true);
      assert.deepEqual(dry.removed.map((e: { uuid: string }) => e.uuid), [old]);
      assert.ok(await exists(`${store}/${old}`), "dry run changes nothing");
      const done = JSON.parse(
        await ok(["prune", "--older-than", "7d", "--json", "-s", store]),
      );
      assert.deepEqual(done.removed.map((e: { uuid: string }) => e.uuid), [
        old,
      ]);
      assert.equal(done.removed[0].reason, "older-than");
      assert.deepEqual(await entries(store), [uuid]);
    });

    await t.step(
      "prune sweeps dead staging, tmp blobs and unreferenced blobs",
      async () => {
        const staging = `${store}/.polythene/staging/dead-pull`;
        await Deno.mkdir(`${staging}/usr`, { recursive: true });
        await Deno.chmod(`${staging}/usr`, 0o555);
        await Deno.writeTextFile(`${staging}.lock`, "");
        const blobs = `${store}/.polythene/blobs/sha256`;
        await Deno.writeTextFile(
          `${blobs}/${"a".repeat(64)}.dead-pull.tmp`,
          "x",
        );
        const stray = "b".repeat(64);
        await Deno.writeTextFile(`${blobs}/${stray}`, "unreferenced");
        const report = JSON.parse(await ok(["prune", "--json", "-s", store]));
        assert.deepEqual(report.removed, []);
        assert.deepEqual(report.staging, ["dead-pull"]);
        assert.equal(report.temporaries, 1);
        assert.equal(report.blobs.removed, 1);
        assert.deepEqual(await stagingLeftovers(store), []);
        assert.equal(await exists(`${blobs}/${stray}`), false);
        for (const layer of image.layers) {
          assert.ok(
            await exists(`${blobs}/${layer.descriptor.digest.slice(7)}`),
            "referenced layers stay",
          );
        }
      },
    );

    await t.step(
      "legacy entries are listed, inspected, cloned and removed",
      async () => {
        const legacy = "legacy-entry";
        await Deno.mkdir(`${store}/${legacy}/bin`, { recursive: true });
        await Deno.writeTextFile(
          `${store}/${legacy}/.polythene-meta`,
          "image=docker.io/library/alpine:3\ncreated=2020-01-02T03:04:05Z\n",
        );
        const info = JSON.parse(
          await ok(["inspect", "--json", "-s", store, legacy]),
        );
        assert.equal(info.kind, "legacy");
        assert.equal(info.image, "docker.io/library/alpine:3");
        assert.equal(info.created, "2020-01-02T03:04:05Z");
        assert.equal(info.size, null);
        assert.equal(info.digest, null);
        const list = JSON.parse(await ok(["list", "--json", "-s", store]));
        assert.ok(
          list.entries.some((e: { uuid: string }) => e.uuid === legacy),
        );
        const copy = (await ok(["clone", "-s", store, legacy])).trim();
        const copied = JSON.parse(
          await ok(["inspect", "--json", "-s", store, copy]),
        );
        assert.equal(copied.parent, legacy);
        assert.equal(copied.image, "docker.io/library/alpine:3");
        await ok(["rm", "-s", store, legacy, copy]);
        assert.deepEqual(await entries(store), [uuid]);
      },
    );
  },
);

testNeeding(
  MISSING,
  "store: list runs while a pull holds its staging lock",
  async () => {
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [{ compression: "gzip", entries: busyboxEntries() }],
    });
    await pushImage(registry, "test/held", "1", image);
    const layer = image.layers[0]!.descriptor.digest;
    // The layer's download waits until the test has run list.
    let requested!: () => void;
    const blobRequested = new Promise<void>((r) => requested = r);
    let release!: () => void;
    const released = new Promise<void>((r) => release = r);
    await using proxy = startFaultProxy(registry);
    proxy.plan({
      hook: async (request, { kind, forward }) => {
        if (kind !== "blob" || !new URL(request.url).pathname.endsWith(layer)) {
          return undefined;
        }
        requested();
        await released;
        return await forward(request);
      },
    });
    await using files = await tempStore();
    const pull = runPolythene([
      "pull",
      "-q",
      "--tls-verify=false",
      "--store",
      files.store,
      `${proxy.host}/test/held:1`,
    ]);
    pull.catch(() => {});
    try {
      await Promise.race([
        blobRequested,
        pull.then((r) => assert.fail(`pull ended first: ${explain(r)}`)),
      ]);
      const staged = await stagingLeftovers(files.store);
      const lockFile = staged.find((name) => name.endsWith(".lock"));
      assert.ok(lockFile !== undefined, `a staging lock: ${staged}`);
      const path = `${files.store}/.polythene/staging/${lockFile}`;
      const held = await flocksOn((await Deno.stat(path)).ino!);
      assert.ok(
        held.some((l) => l.mode === "WRITE" && !l.waiting),
        "the pull holds its staging lock",
      );
      const list = await runPolythene(["list", "--json", "-s", files.store]);
      assert.equal(list.code, 0, explain(list));
      assert.deepEqual(JSON.parse(list.stdout).entries, []);
      assert.deepEqual(await stagingLeftovers(files.store), staged);
    } finally {
      release();
    }
    const uuid = assertPulled(await pull);
    const list = JSON.parse(await ok(["list", "--json", "-s", files.store]));
    assert.deepEqual(list.entries.map((e: { uuid: string }) => e.uuid), [uuid]);
  },
);

Deno.test("store: two prunes at once remove each entry once", async () => {
  const staged = await makeBusyboxStore();
  try {
    const clones = [];
    for (let i = 0; i < 4; i++) {
      clones.push(
        (await ok(["clone", "-s", staged.store, staged.uuid])).trim(),
      );
    }
    const [a, b] = await Promise.all([
      runPolythene(["prune", "--all", "--json", "-s", staged.store]),
      runPolythene(["prune", "--all", "--json", "-s", staged.store]),
    ]);
    assert.equal(a.code, 0, explain(a));
    assert.equal(b.code, 0, explain(b));
    const removed = [
      ...JSON.parse(a.stdout).removed,
      ...JSON.parse(b.stdout).removed,
    ].map((e: { uuid: string }) => e.uuid).sort();
    assert.deepEqual(removed, [...clones, staged.uuid].sort());
    assert.deepEqual(await entries(staged.store), []);
    assert.deepEqual(await entries(`${staged.store}/.polythene/trash`), []);
  } finally {
    await staged.cleanup();
  }
});

Deno.test("store: 8 parallel exec --ephemeral leave the base unchanged", async () => {
  const staged = await makeBusyboxStore();
  try {
    const before = [...Deno.readDirSync(staged.rootfs)].map((e) => e.name)
      .sort();
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runPolythene([
          "exec",
          "--ephemeral",
          "-s",
          staged.store,
          staged.uuid,
          "--",
          "sh",
          "-c",
          `echo ${i} > /installed-${i} && ls / | grep -c installed`,
        ])),
    );
    for (const run of runs) {
      assert.equal(run.code, 0, explain(run));
      assert.equal(run.stdout.trim(), "1", "each run sees only its own file");
    }
    const after = [...Deno.readDirSync(staged.rootfs)].map((e) => e.name)
      .sort();
    assert.deepEqual(after, before);
    assert.deepEqual(await entries(staged.store), [staged.uuid]);
    assert.deepEqual(await stagingLeftovers(staged.store), []);
  } finally {
    await staged.cleanup();
  }
});

Deno.test("store: exec --ephemeral cleans up after a timeout and after SIGINT", async () => {
  const staged = await makeBusyboxStore();
  try {
    const timedOut = await runPolythene([
      "exec",
      "--ephemeral",
      "--timeout",
      "1",
      "-s",
      staged.store,
      staged.uuid,
      "--",
      "sleep",
      "30",
    ]);
    assert.equal(timedOut.code, 124, explain(timedOut));
    assert.deepEqual(await entries(staged.store), [staged.uuid]);

    let pid = 0;
    const interrupted = runPolythene([
      "exec",
      "--ephemeral",
      "-s",
      staged.store,
      staged.uuid,
      "--",
      "sleep",
      "30",
    ], { onStart: (p) => pid = p });
    // Wait until the overlay (or, without one, the clone) exists and the
    // command runs.
    for (let i = 0; i < 200; i++) {
      if ((await entries(staged.store)).length === 2) break;
      if (await overlayUpper(staged.store)) break;
      await sleep(50);
    }
    await sleep(500);
    Deno.kill(pid, "SIGINT");
    const result = await interrupted;
    assert.ok([130, 255].includes(result.code), explain(result));
    assert.deepEqual(await entries(staged.store), [staged.uuid]);
    assert.deepEqual(await entries(`${staged.store}/.polythene/trash`), []);
  } finally {
    await staged.cleanup();
  }
});

const USER = testUser();

testNeeding(
  USER === undefined ? 'the user "polythene-test"' : undefined,
  "store: unsafe store roots are refused",
  async (t) => {
    const staged = await makeBusyboxStore();
    const dir = staged.store.replace(/\/store$/, "");
    try {
      await t.step("a symlink", async () => {
        await Deno.symlink(staged.store, `${dir}/link`);
        for (
          const args of [["list"], ["exec", staged.uuid, "--", "true"], [
            "rm",
            staged.uuid,
          ]]
        ) {
          const [command, ...rest] = args;
          const result = await runPolythene([
            command!,
            "-s",
            `${dir}/link`,
            ...rest,
          ]);
          assert.equal(result.code, 1, explain(result));
          assert.match(
            result.stderr,
            /^polythene: Refusing to use the store "[^"]+": it is a symlink\n/,
          );
        }
        assert.ok(await exists(staged.rootfs));
      });
      await t.step("mode 0777", async () => {
        await Deno.chmod(staged.store, 0o777);
        const result = await runPolythene([
          "exec",
          "-s",
          staged.store,
          staged.uuid,
          "--",
          "true",
        ]);
        assert.equal(result.code, 1, explain(result));
        assert.match(
          result.stderr,
          /it is writable by group and others \(mode 0777\)/,
        );
        await Deno.chmod(staged.store, 0o700);
      });
      await t.step("another user's directory", async () => {
        await Deno.chown(staged.store, USER!.uid, USER!.gid);
        const result = await runPolythene([
          "prune",
          "--all",
          "-s",
          staged.store,
        ]);
        assert.equal(result.code, 1, explain(result));
        assert.match(
          result.stderr,
          /it is owned by uid \d+, not by you \(uid 0\)/,
        );
        assert.ok(await exists(staged.rootfs));
      });
      await t.step("an entry that is a symlink", async () => {
        await Deno.chown(staged.store, 0, 0);
        await Deno.symlink(staged.rootfs, `${staged.store}/alias`);
        const result = await runPolythene(["rm", "-s", staged.store, "alias"]);
        assert.equal(result.code, 1, explain(result));
        assert.ok(await exists(staged.rootfs));
        const list = JSON.parse(
          await ok(["list", "--json", "-s", staged.store]),
        );
        assert.deepEqual(list.entries.map((e: { uuid: string }) => e.uuid), [
          staged.uuid,
        ]);
      });
    } finally {
      await staged.cleanup();
    }
  },
);
