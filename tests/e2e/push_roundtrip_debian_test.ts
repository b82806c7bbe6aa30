/**
 * The round trip with real parts: the Debian image (cached by
 * scripts/setup.sh) goes onto a loopback `docker-registry`; `apt-get
 * install -y hello` runs in a pulled entry as root, and separately as the
 * test user `polythene-test` over bubblewrap; each entry loses
 * `/etc/issue.net`, is committed and pushed (the base layer mounted); a
 * fresh store pulls each image and runs `hello`, and the deleted file stays
 * deleted. podman (`pull` + `create` + `export`, in a storage of its own)
 * reads root's image the same way, while the user's half runs.
 *
 * apt reaches the Debian mirror for its lists (`apt-get update`), as
 * tests/e2e/exec_apt_test.ts does; the packages come from an archive cache
 * of this test's in /var/cache/polythene-test (as
 * tests/e2e/exec_corpus_test.ts keeps one), bound over
 * /var/cache/apt/archives. The lists and apt's caches are
 * removed before the commit, as a Dockerfile would, so the new layer holds
 * the install only. One registry serves everything. Each half prints its
 * wall time (informational, never asserted).
 *
 * Needs root, the user, setpriv, bwrap, podman, docker-registry and the
 * Debian image; under `CI=true` a missing one fails the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import {
  type CliOptions,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import { runOrThrow } from "../helpers/command.ts";
import { missingFor, testNeeding, testUser } from "../helpers/fixtures.ts";
import { pullAndRunScript } from "../helpers/pull_and_run.ts";
import { explain, tempStore } from "../helpers/pull_checks.ts";
import {
  podman,
  podmanStorage,
  resetPodmanStorage,
} from "../helpers/podman_storage.ts";
import {
  pushImage,
  type Registry,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const USER = testUser();
const CACHE = "/var/cache/polythene-test";
/** apt reaches a real mirror: allow it time. */
const APT_MS = 600_000;

const MISSING = missingFor({
  root: true,
  user: true,
  programs: ["setpriv", "bwrap", "podman", "chown"],
  also: [registryMissing(), await debianImageMissing()],
});

/** What runs in the entry before the commit. */
const PROVISION = [
  "export DEBIAN_FRONTEND=noninteractive",
  "apt-get update -qq",
  "apt-get install -y -q hello",
  "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin",
  "rm /etc/issue.net",
].join(" && ");

/**
 * This test's apt archive cache, owned by the user (root's run shares it).
 * Not the corpus test's: apt locks the directory, and a corpus install
 * running meanwhile (another checkout on the same machine) would hold it.
 */
async function aptCache(): Promise<string> {
  const dir = `${CACHE}/apt-archives-roundtrip`;
  await Deno.mkdir(`${dir}/partial`, { recursive: true, mode: 0o755 });
  await runOrThrow(["chown", "-R", `${USER!.uid}:${USER!.gid}`, dir]);
  return dir;
}

/**
 * Pulls the base as `user` (or root) into `store`, installs hello, deletes
 * /etc/issue.net, commits as `dest` and pushes it; returns the pushed
 * digest.
 */
async function provisionAndPush(
  registry: Registry,
  store: string,
  dest: string,
  cli: CliOptions,
): Promise<string> {
  const polythene = (args: string[]) =>
    runPolythene(args, { ...cli, killAfterMs: APT_MS });
  const pulled = await polythene(
    ["pull", "-q", "-s", store, `${registry.host}/test/debian:12`],
  );
  assert.equal(pulled.code, 0, explain(pulled));
  const uuid = pulled.stdout.trim();
  const installed = await polythene([
    "exec",
    "-s",
    store,
    "--isolation",
    "bubblewrap",
    "--bind",
    `${await aptCache()}:/var/cache/apt/archives`,
    uuid,
    "--",
    "sh",
    "-c",
    PROVISION,
  ]);
  assert.equal(installed.code, 0, explain(installed));
  assert.match(installed.stdout, /Setting up hello/, explain(installed));
  const committed = await polythene(["commit", "-q", "-s", store, uuid, dest]);
  assert.equal(committed.code, 0, explain(committed));
  const digest = committed.stdout.trim();
  const pushed = await polythene(["push", "-v", "-s", store, dest, dest]);
  assert.equal(pushed.code, 0, explain(pushed));
  assert.equal(pushed.stdout, `${dest}@${digest}\n`);
  // The base layer is the registry's already: mounted, not sent again.
  assert.match(pushed.stderr, /mounted from test\/debian/, explain(pushed));
  return digest;
}

/** Pulls `ref` on a fresh root store and runs hello there. */
async function pullAndRunHello(ref: string): Promise<void> {
  await using fresh = await tempStore();
  assert.equal(
    await pullAndRunScript(
      fresh.store,
      ref,
      "hello && { test -e /etc/issue.net || echo deleted; }",
    ),
    "Hello, world!\ndeleted\n",
  );
}

/** podman, in a storage of its own under `dir`. */
function podmanIn(dir: string) {
  const env = {
    CONTAINERS_STORAGE_CONF: `${dir}/storage.conf`,
    CONTAINERS_STORAGE_DRIVER: "vfs",
  };
  return {
    setup: () => podmanStorage(dir, env.CONTAINERS_STORAGE_CONF),
    run: (...args: string[]) => podman(env, ...args),
    reset: () => resetPodmanStorage(env),
  };
}

/** The user's half: provision over bubblewrap, push, root pulls and runs. */
async function userRoundTrip(registry: Registry, user: TestUser) {
  const started = performance.now();
  await using mine = await tempStore(user);
  const source = await sourceReadableBy(user);
  try {
    const ref = `${registry.host}/test/hello-user:1`;
    await provisionAndPush(registry, mine.store, ref, {
      user,
      source: source.dir,
    });
    await pullAndRunHello(ref);
  } finally {
    await source.cleanup();
  }
  console.log(`round trip as the user: ${since(started)}`);
}

/**
 * podman pulls `ref`, creates a container and exports it: hello is there,
 * the base's files too, and /etc/issue.net stays deleted.
 */
async function podmanReads(ref: string) {
  const started = performance.now();
  await using scratch = await tempStore();
  const podman = podmanIn(scratch.dir);
  await podman.setup();
  try {
    await podman.run("pull", "-q", "--tls-verify=false", ref);
    const container = await podman.run("create", ref, "hello");
    const tar = `${scratch.dir}/exported.tar`;
    await podman.run("export", "-o", tar, container);
    await podman.run("rm", container);
    const listed = await new Deno.Command("tar", {
      args: ["-tf", tar],
      stdout: "piped",
    }).output();
    assert.ok(listed.success, "tar -tf of podman's export");
    const names = new Set(
      new TextDecoder().decode(listed.stdout).split("\n")
        .map((n) => n.replace(/^\.?\//, "")),
    );
    assert.ok(names.has("usr/bin/hello"), "usr/bin/hello is there");
    assert.ok(names.has("etc/issue"), "the base's files are there");
    assert.ok(!names.has("etc/issue.net"), "etc/issue.net stays deleted");
  } finally {
    await podman.reset();
  }
  console.log(`podman reads root's image: ${since(started)}`);
}

/** Seconds since `started`, for the log. */
function since(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

testNeeding(
  MISSING,
  "round trip: apt-get install hello as root and as the user, commit, push, pull fresh, run; podman reads it",
  async (t) => {
    const user: TestUser = USER!;
    await using registry = await startRegistry();
    await pushImage(
      registry,
      "test/debian",
      "12",
      await debianOciImage(await debianImage()),
    );

    const rootRef = `${registry.host}/test/hello:root`;
    await t.step(
      "as root: install, commit, push; pull fresh and run",
      async () => {
        const started = performance.now();
        await using mine = await tempStore();
        await provisionAndPush(registry, mine.store, rootRef, {});
        await pullAndRunHello(rootRef);
        console.log(`round trip as root: ${since(started)}`);
      },
    );

    // podman reads root's image while the user provisions: the two wait
    // on different things (podman's storage, apt's mirror), and apt's
    // archive cache allows one apt at a time, so root's run comes first.
    await t.step(
      "as the user over bubblewrap: install, commit, push; root pulls fresh and runs; meanwhile podman pull, create and export read root's image",
      async () => {
        const outcomes = await Promise.allSettled([
          userRoundTrip(registry, user),
          podmanReads(rootRef),
        ]);
        for (const outcome of outcomes) {
          if (outcome.status === "rejected") throw outcome.reason;
        }
      },
    );
  },
);
