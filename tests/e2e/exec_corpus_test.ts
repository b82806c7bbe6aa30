/**
 * Real package installs as an unprivileged user, with the same result as
 * root: the corpus (cron, openssh-server, sudo, iputils-ping, postgresql-15,
 * from Debian's mirror) installed in one `exec --ephemeral` run per id
 * mapping mode, all in one apt run:
 *
 * - as `polythene-test` on bubblewrap with `--id-map full` (subordinate
 *   ranges, newuidmap) and `--id-map fake` (seccomp);
 * - as `polythene-test` on proot (`-0`, with the faccessat2/statx filter);
 * - as root on bubblewrap.
 *
 * Each run checks apt's exit, `id sshd`, `id postgres` and sudo's setuid
 * bit; where ids are real (root, full maps) also the group of
 * /var/spool/cron/crontabs and the owner of /var/lib/postgresql, and starts
 * the cluster and runs `psql -c 'select 1'` as postgres. The apt archives
 * are cached in /var/cache/polythene-test (one directory, the user's, that
 * root's run shares).
 *
 * Host shapes: a user with no subordinate ranges (`polythene-nosub`,
 * scripts/setup.sh) and a PATH without newuidmap get faked ownership; with
 * no user namespaces left, proot. And `clone`/`rm`/`prune` of an entry
 * chowned in full-map mode, as the user.
 *
 * To keep the wall time down, everything is one test: one OCI layout, one
 * store and entry for the user (the installs run in ephemeral overlays of it,
 * the host shapes in it, and the removal step goes last), one for root and
 * one for `polythene-nosub`.
 *
 * Under `CI=true` a missing requirement fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runOrThrow } from "../helpers/command.ts";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import {
  type CliOptions,
  type CliResult,
  type ReadableSource,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import {
  NO_MORE_NAMESPACES,
  show,
  withPathOf,
} from "../helpers/exec_shapes.ts";
import {
  missingFor,
  onHostPath,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { writeOciLayout } from "../helpers/oci_image.ts";

const USER = testUser();
const NOSUB = testUser("polythene-nosub");
/** A real mirror and a database: allow time. */
const APT_MS = 900_000;
const CACHE = "/var/cache/polythene-test";

/** The corpus, from the issue. */
export const CORPUS = [
  "cron",
  "openssh-server",
  "sudo",
  "iputils-ping",
  "postgresql-15",
];

function readTextOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

const MISSING = missingFor({
  root: true,
  user: true,
  programs: [
    "setpriv",
    "bwrap",
    "proot",
    "unshare",
    "newuidmap",
    "newgidmap",
    "chown",
    "chmod",
  ],
  found: onHostPath,
  also: [
    NOSUB === undefined ? 'the user "polythene-nosub"' : undefined,
    ...["/etc/subuid", "/etc/subgid"].map((file) =>
      /^polythene-test:\d+:\d+$/m.test(readTextOr(file))
        ? undefined
        : `a polythene-test range in ${file}`
    ),
    await debianImageMissing(),
  ],
});

/** The apt archive cache, owned by the user (root's run shares it). */
async function aptCache(): Promise<string> {
  const dir = `${CACHE}/apt-archives-${USER!.name}`;
  await Deno.mkdir(`${dir}/partial`, { recursive: true, mode: 0o755 });
  await runOrThrow(["chown", "-R", `${USER!.uid}:${USER!.gid}`, dir]);
  return dir;
}

/** A store of `owner`'s (or root's) with the image pulled into it. */
interface Pulled {
  store: string;
  uuid: string;
  polythene: (args: string[], extra?: CliOptions) => Promise<CliResult>;
}

/** Writes the OCI layout of the Debian image, readable by all. */
async function writeLayout(dir: string): Promise<string> {
  await writeOciLayout(
    `${dir}/oci`,
    await debianOciImage(await debianImage()),
    "bookworm",
  );
  await runOrThrow(["chmod", "-R", "a+rX", dir]);
  return `oci:${dir}/oci:bookworm`;
}

/** Pulls `image` into a new store of `owner`'s (or root's) under `dir`. */
async function pullFor(
  dir: string,
  image: string,
  owner: TestUser | undefined,
  source: string | undefined,
): Promise<Pulled> {
  const store = `${dir}/store-${owner?.name ?? "root"}`;
  await Deno.mkdir(store, { mode: 0o700 });
  if (owner !== undefined) {
    await runOrThrow(["chown", `${owner.uid}:${owner.gid}`, store]);
  }
  const cli: CliOptions = { user: owner, source, killAfterMs: APT_MS };
  const polythene = (args: string[], extra: CliOptions = {}) =>
    runPolythene(args, { ...cli, ...extra });
  const pull = await polythene(["pull", "--quiet", "--store", store, image]);
  assert.equal(pull.code, 0, show(pull));
  return { store, uuid: pull.stdout.trim(), polythene };
}

/** The script run inside: install, then report what the checks need. */
export function corpusScript(realIds: boolean): string {
  const lines = [
    "export DEBIAN_FRONTEND=noninteractive",
    "apt-get update -qq || { echo apt-update=failed; exit 0; }",
    `apt-get install -y -q --no-install-recommends ${CORPUS.join(" ")}`,
    'echo "apt=$?"',
    'echo "sshd=$(id -u sshd 2>&1)"',
    'echo "postgres=$(id -u postgres 2>&1)"',
    'echo "sudo=$(stat -c %a:%U /usr/bin/sudo 2>&1)"',
    'echo "crontabs=$(stat -c %G /var/spool/cron/crontabs 2>&1)"',
    'echo "pgdir=$(stat -c %U /var/lib/postgresql 2>&1)"',
  ];
  if (realIds) {
    lines.push(
      "pg_ctlcluster 15 main start",
      'echo "psql=$(su postgres -c "psql -tAc \'select 1\'" 2>&1)"',
      "pg_ctlcluster 15 main stop",
    );
  }
  return lines.join("\n");
}

/** The `key=value` lines the script printed. Pure. */
export function reported(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^(apt|apt-update|sshd|postgres|sudo|crontabs|pgdir|psql)=(.*)$/
      .exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Installs the corpus in one ephemeral run and checks the result. */
async function installCorpus(
  { store, uuid, polythene }: Pulled,
  cache: string,
  args: string[],
  backend: string,
  realIds: boolean,
): Promise<void> {
  const started = performance.now();
  const result = await polythene([
    "exec",
    "--verbose",
    "--store",
    store,
    "--ephemeral",
    "--bind",
    `${cache}:/var/cache/apt/archives`,
    ...args,
    uuid,
    "--",
    "sh",
    "-c",
    corpusScript(realIds),
  ]);
  const seconds = (performance.now() - started) / 1000;
  console.log(`corpus ${backend} ${args.join(" ")}: ${seconds.toFixed(1)} s`);
  const why = show(result);
  assert.equal(result.code, 0, why);
  assert.match(result.stderr, new RegExp(`using backend ${backend}$`, "m"));
  const r = reported(result.stdout);
  assert.equal(r.apt, "0", `apt-get install exit\n${why}`);
  assert.match(r.sshd ?? "", /^\d+$/, `id sshd\n${why}`);
  assert.match(r.postgres ?? "", /^\d+$/, `id postgres\n${why}`);
  assert.match(r.sudo ?? "", /^4755:/, `sudo's mode\n${why}`);
  if (realIds) {
    assert.equal(r.sudo, "4755:root", why);
    assert.equal(r.crontabs, "crontab", `crontabs' group\n${why}`);
    assert.equal(r.pgdir, "postgres", `/var/lib/postgresql's owner\n${why}`);
    assert.equal(r.psql, "1", `psql as postgres\n${why}`);
  }
  // The ephemeral run's overlay upper (or, without one, its clone) is
  // gone, files of subordinate ids and all.
  const left = [...Deno.readDirSync(store)].map((e) => e.name);
  assert.deepEqual(left.filter((n) => n !== uuid && n !== ".polythene"), []);
  assert.deepEqual([...Deno.readDirSync(`${store}/.polythene/run`)], []);
  // The run's filter files are gone from the state area.
  const state = [...Deno.readDirSync(`${store}/.polythene`)].map((e) => e.name);
  assert.deepEqual(state.filter((n) => n.startsWith("seccomp-")), []);
}

/** `chown 100:100` on a new file `name` in /tmp, then its owner. */
function chownProbe(name: string): string[] {
  return [
    "sh",
    "-c",
    `touch /tmp/${name} && chown 100:100 /tmp/${name} && ` +
    `stat -c %u:%g /tmp/${name}`,
  ];
}

/**
 * Root inside writes into a directory of mode 0500 (`CAP_DAC_OVERRIDE`, as
 * dpkg needs), then prints its effective capabilities.
 */
function capsProbe(name: string): string[] {
  return [
    "sh",
    "-c",
    `mkdir -m 0500 /tmp/${name} && touch /tmp/${name}/f && ` +
    "grep CapEff /proc/self/status",
  ];
}

/** Docker's default set (chown ... setfcap) as /proc shows it. */
const DOCKER_CAPS = "CapEff:\t00000000a80425fb";

function idMapOf(result: CliResult): string | undefined {
  return /polythene: id map: (\w+)/.exec(result.stderr)?.[1];
}

/**
 * A temp dir with the OCI layout and a store with the image pulled for each
 * of `owners` (undefined: root), all removed afterwards.
 */
async function withPulled(
  owners: [TestUser | undefined, TestUser | undefined],
  fn: (pulled: [Pulled, Pulled]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-corpus-" });
  const sources: ReadableSource[] = [];
  try {
    const image = await writeLayout(dir);
    const pulled: Pulled[] = [];
    for (const owner of owners) {
      const source = owner && await sourceReadableBy(owner);
      if (source) sources.push(source);
      pulled.push(await pullFor(dir, image, owner, source?.dir));
    }
    await fn(pulled as [Pulled, Pulled]);
  } finally {
    // Files of subordinate ids: root removes them all the same.
    await Deno.remove(dir, { recursive: true });
    for (const source of sources) await source.cleanup();
  }
}

function exec(p: Pulled, args: string[], extra?: CliOptions) {
  return p.polythene(["exec", "-v", "-s", p.store, ...args], extra);
}

testNeeding(MISSING, "the corpus installs in every mode", async (t) => {
  const cache = await aptCache();
  await withPulled([USER, undefined], async ([user, root]) => {
    await t.step(
      "as the user on bubblewrap with full id maps",
      () =>
        installCorpus(user, cache, ["--id-map", "full"], "bubblewrap", true),
    );
    await t.step(
      "as the user on bubblewrap with faked ownership",
      () =>
        installCorpus(user, cache, ["--id-map", "fake"], "bubblewrap", false),
    );
    await t.step(
      "as the user on proot",
      () =>
        installCorpus(user, cache, ["--isolation", "proot"], "proot", false),
    );
    await t.step(
      "as root on bubblewrap",
      () => installCorpus(root, cache, [], "bubblewrap", true),
    );
  });
});

testNeeding(MISSING, "host shapes choose the id mapping", async (t) => {
  await withPulled([USER, NOSUB], async ([user, nosub]) => {
    await t.step(
      "ranges and uidmap: full maps, chown kept",
      async () => {
        const r = await exec(user, [user.uuid, "--", ...chownProbe("full")]);
        assert.equal(r.code, 0, show(r));
        assert.equal(idMapOf(r), "full", show(r));
        assert.equal(r.stdout.trim(), "100:100", show(r));
        const caps = await exec(user, [
          user.uuid,
          "--",
          ...capsProbe("full-caps"),
        ]);
        assert.equal(caps.code, 0, show(caps));
        assert.equal(caps.stdout.trim(), DOCKER_CAPS, show(caps));
      },
    );
    await t.step(
      "no subordinate ranges: faked ownership",
      async () => {
        const r = await exec(nosub, [nosub.uuid, "--", ...chownProbe("nosub")]);
        assert.equal(r.code, 0, show(r));
        assert.equal(idMapOf(r), "fake", show(r));
        assert.match(r.stderr, /no range in \/etc\/subuid/, show(r));
        assert.equal(r.stdout.trim(), "0:0", show(r));
        const caps = await exec(nosub, [
          nosub.uuid,
          "--",
          ...capsProbe("nosub-caps"),
        ]);
        assert.equal(caps.code, 0, show(caps));
        assert.equal(caps.stdout.trim(), DOCKER_CAPS, show(caps));
        const full = await exec(nosub, [
          "--id-map",
          "full",
          nosub.uuid,
          "--",
          "true",
        ]);
        assert.equal(full.code, 2, show(full));
        assert.match(full.stderr, /--id-map full: .*\/etc\/subuid.*uidmap/);
      },
    );
    await t.step(
      "uidmap missing from PATH: faked ownership",
      async () => {
        await withPathOf(
          ["bwrap", "sh", "unshare", "proot", "cp"],
          async (path) => {
            const r = await exec(
              user,
              [user.uuid, "--", ...chownProbe("nouidmap")],
              { path },
            );
            assert.equal(r.code, 0, show(r));
            assert.equal(idMapOf(r), "fake", show(r));
            assert.match(r.stderr, /newuidmap\/newgidmap are not on PATH/);
            assert.equal(r.stdout.trim(), "0:0", show(r));
          },
        );
      },
    );
    await t.step(
      "no user namespaces: proot fakes the owner",
      async () => {
        const r = await exec(
          user,
          [user.uuid, "--", ...chownProbe("proot")],
          { prefix: NO_MORE_NAMESPACES },
        );
        assert.equal(r.code, 0, show(r));
        assert.match(r.stderr, /using backend proot$/m, show(r));
        assert.equal(r.stdout.trim(), "0:0", show(r));
        // faccessat2 (test -w) and statx (stat) see the rootfs's path, not
        // the host's: the compat filter sends them back to older calls.
        const compat = await exec(user, [
          "--isolation",
          "proot",
          user.uuid,
          "--",
          "sh",
          "-c",
          "touch /srv/only-here && test -w /srv/only-here && " +
          "stat -c %s /srv/only-here",
        ]);
        assert.equal(compat.code, 0, show(compat));
        assert.equal(compat.stdout.trim(), "0", show(compat));
      },
    );
    // Last: it removes the user's entry.
    await t.step(
      "clone, rm and prune a full-map entry as the user",
      async () => {
        const { store, uuid, polythene } = user;
        const r = await exec(user, [
          "--id-map",
          "full",
          uuid,
          "--",
          "sh",
          "-c",
          "mkdir -p /srv/a/b && echo x > /srv/a/b/f && chmod 0700 /srv/a " +
          "&& chown -R 100:100 /srv/a",
        ]);
        assert.equal(r.code, 0, show(r));
        // On the host the tree belongs to a subordinate id.
        const owner = (await Deno.stat(`${store}/${uuid}/srv/a`)).uid;
        assert.ok(owner !== null && owner >= 100000, `owner ${owner}`);
        // clone copies it with its owners; rm removes the clone.
        const clone = await polythene(["clone", "-s", store, uuid]);
        assert.equal(clone.code, 0, show(clone));
        const copy = clone.stdout.trim();
        assert.equal(
          (await Deno.stat(`${store}/${copy}/srv/a/b/f`)).uid,
          owner,
        );
        const rm = await polythene(["rm", "-s", store, copy]);
        assert.equal(rm.code, 0, show(rm));
        await assert.rejects(Deno.stat(`${store}/${copy}`));
        const prune = await polythene(["prune", "-s", store, "--all"]);
        assert.equal(prune.code, 0, show(prune));
        await assert.rejects(Deno.stat(`${store}/${uuid}`));
        assert.deepEqual(
          [...Deno.readDirSync(`${store}/.polythene/trash`)].map((e) => e.name),
          [],
        );
      },
    );
  });
});
