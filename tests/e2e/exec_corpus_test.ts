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
 * are cached in /var/cache/polythene-test (one directory per host user).
 *
 * Host shapes: a user with no subordinate ranges (`polythene-nosub`,
 * scripts/setup.sh) and a PATH without newuidmap get faked ownership; with
 * no user namespaces left, proot. And `rm`/`prune` of an entry chowned in
 * full-map mode, as the user.
 *
 * Under `CI=true` a missing requirement fails instead of skipping.
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
  type CliResult,
  hostProgram,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import {
  NO_MORE_NAMESPACES,
  show,
  withPathOf,
} from "../helpers/exec_shapes.ts";
import { testNeeding, testUser } from "../helpers/fixtures.ts";
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

const MISSING = await (async () => {
  const missing: string[] = [];
  if (Deno.uid() !== 0) missing.push("root (uid 0)");
  if (USER === undefined) missing.push('the user "polythene-test"');
  if (NOSUB === undefined) missing.push('the user "polythene-nosub"');
  for (
    const program of [
      "setpriv",
      "bwrap",
      "proot",
      "unshare",
      "newuidmap",
      "newgidmap",
      "chown",
      "chmod",
    ]
  ) {
    if (hostProgram(program) === undefined) missing.push(program);
  }
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    if (!/^polythene-test:\d+:\d+$/m.test(readTextOr(file))) {
      missing.push(`a polythene-test range in ${file}`);
    }
  }
  const image = await debianImageMissing();
  if (image !== undefined) missing.push(image);
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
})();

/** Runs `argv` as root; throws with its stderr when it fails. */
async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(hostProgram(argv[0]!)!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** The apt archive cache for `owner` (created, owned by them). */
async function aptCache(owner: TestUser | undefined): Promise<string> {
  const dir = `${CACHE}/apt-archives-${owner?.name ?? "root"}`;
  await Deno.mkdir(`${dir}/partial`, { recursive: true, mode: 0o755 });
  if (owner !== undefined) {
    await run(["chown", "-R", `${owner.uid}:${owner.gid}`, dir]);
  }
  return dir;
}

/** A store for `owner` (or root) holding the Debian image; removed after. */
async function withDebian(
  owner: TestUser | undefined,
  fn: (ctx: {
    store: string;
    uuid: string;
    cli: CliOptions;
    polythene: (args: string[], extra?: CliOptions) => Promise<CliResult>;
  }) => Promise<void>,
): Promise<void> {
  const source = owner === undefined
    ? undefined
    : await sourceReadableBy(owner);
  const dir = await Deno.makeTempDir({ prefix: "polythene-corpus-" });
  try {
    await writeOciLayout(
      `${dir}/oci`,
      await debianOciImage(await debianImage()),
      "bookworm",
    );
    await run(["chmod", "-R", "a+rX", dir]);
    await Deno.mkdir(`${dir}/store`, { mode: 0o700 });
    if (owner !== undefined) {
      await run(["chown", `${owner.uid}:${owner.gid}`, `${dir}/store`]);
    }
    const cli: CliOptions = {
      user: owner,
      source: source?.dir,
      killAfterMs: APT_MS,
    };
    const polythene = (args: string[], extra: CliOptions = {}) =>
      runPolythene(args, { ...cli, ...extra });
    const pull = await polythene([
      "pull",
      "--quiet",
      "--store",
      `${dir}/store`,
      `oci:${dir}/oci:bookworm`,
    ]);
    assert.equal(pull.code, 0, show(pull));
    const uuid = pull.stdout.trim();
    await fn({ store: `${dir}/store`, uuid, cli, polythene });
  } finally {
    // Files of subordinate ids: root removes them all the same.
    await Deno.remove(dir, { recursive: true });
    await source?.cleanup();
  }
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
  owner: TestUser | undefined,
  args: string[],
  backend: string,
  realIds: boolean,
): Promise<void> {
  const cache = await aptCache(owner);
  await withDebian(owner, async ({ store, uuid, polythene }) => {
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
    // The ephemeral clone is gone, files of subordinate ids and all.
    const left = [...Deno.readDirSync(store)].map((e) => e.name);
    assert.deepEqual(left.filter((n) => n !== uuid && n !== ".polythene"), []);
    // The run's filter files are gone from the state area.
    const state = [...Deno.readDirSync(`${store}/.polythene`)].map((e) =>
      e.name
    );
    assert.deepEqual(state.filter((n) => n.startsWith("seccomp-")), []);
  });
}

testNeeding(
  MISSING,
  "the corpus installs as the user on bubblewrap with full id maps",
  () => installCorpus(USER, ["--id-map", "full"], "bubblewrap", true),
);

testNeeding(
  MISSING,
  "the corpus installs as the user on bubblewrap with faked ownership",
  () => installCorpus(USER, ["--id-map", "fake"], "bubblewrap", false),
);

testNeeding(
  MISSING,
  "the corpus installs as the user on proot",
  () => installCorpus(USER, ["--isolation", "proot"], "proot", false),
);

testNeeding(
  MISSING,
  "the corpus installs as root on bubblewrap",
  () => installCorpus(undefined, [], "bubblewrap", true),
);

/** `chown 100:100` on a new file, and the mode the run used. */
const CHOWN_PROBE = [
  "sh",
  "-c",
  "touch /tmp/owned && chown 100:100 /tmp/owned && stat -c %u:%g /tmp/owned",
];

function idMapOf(result: CliResult): string | undefined {
  return /polythene: id map: (\w+)/.exec(result.stderr)?.[1];
}

testNeeding(MISSING, "host shapes choose the id mapping", async (t) => {
  await t.step("with ranges and uidmap: full maps, chown kept", async () => {
    await withDebian(USER, async ({ store, uuid, polythene }) => {
      const r = await polythene([
        "exec",
        "-v",
        "-s",
        store,
        uuid,
        "--",
        ...CHOWN_PROBE,
      ]);
      assert.equal(r.code, 0, show(r));
      assert.equal(idMapOf(r), "full", show(r));
      assert.equal(r.stdout.trim(), "100:100", show(r));
    });
  });
  await t.step("no subordinate ranges: faked ownership", async () => {
    await withDebian(NOSUB, async ({ store, uuid, polythene }) => {
      const r = await polythene([
        "exec",
        "-v",
        "-s",
        store,
        uuid,
        "--",
        ...CHOWN_PROBE,
      ]);
      assert.equal(r.code, 0, show(r));
      assert.equal(idMapOf(r), "fake", show(r));
      assert.match(r.stderr, /no range in \/etc\/subuid/, show(r));
      assert.equal(r.stdout.trim(), "0:0", show(r));
      const full = await polythene([
        "exec",
        "-s",
        store,
        "--id-map",
        "full",
        uuid,
        "--",
        "true",
      ]);
      assert.equal(full.code, 2, show(full));
      assert.match(full.stderr, /--id-map full: .*\/etc\/subuid.*uidmap/);
    });
  });
  await t.step("uidmap missing from PATH: faked ownership", async () => {
    await withPathOf(
      ["bwrap", "sh", "unshare", "proot", "cp"],
      async (path) => {
        await withDebian(USER, async ({ store, uuid, polythene }) => {
          const r = await polythene(
            ["exec", "-v", "-s", store, uuid, "--", ...CHOWN_PROBE],
            { path },
          );
          assert.equal(r.code, 0, show(r));
          assert.equal(idMapOf(r), "fake", show(r));
          assert.match(r.stderr, /newuidmap\/newgidmap are not on PATH/);
          assert.equal(r.stdout.trim(), "0:0", show(r));
        });
      },
    );
  });
  await t.step("no user namespaces: proot fakes the owner", async () => {
    await withDebian(USER, async ({ store, uuid, polythene }) => {
      const r = await polythene(
        ["exec", "-v", "-s", store, uuid, "--", ...CHOWN_PROBE],
        { prefix: NO_MORE_NAMESPACES },
      );
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /using backend proot$/m, show(r));
    });
  });
  await t.step("rm and prune remove a full-map entry as the user", async () => {
    await withDebian(USER, async ({ store, uuid, polythene }) => {
      const chown = [
        "sh",
        "-c",
        "mkdir -p /srv/a/b && echo x > /srv/a/b/f && chmod 0700 /srv/a " +
        "&& chown -R 100:100 /srv/a",
      ];
      const r = await polythene([
        "exec",
        "-s",
        store,
        "--id-map",
        "full",
        uuid,
        "--",
        ...chown,
      ]);
      assert.equal(r.code, 0, show(r));
      // On the host the tree belongs to a subordinate id.
      const owner = (await Deno.stat(`${store}/${uuid}/srv/a`)).uid;
      assert.ok(owner !== null && owner >= 100000, `owner ${owner}`);
      // clone copies it with its owners; rm removes the clone.
      const clone = await polythene(["clone", "-s", store, uuid]);
      assert.equal(clone.code, 0, show(clone));
      const copy = clone.stdout.trim();
      assert.equal((await Deno.stat(`${store}/${copy}/srv/a/b/f`)).uid, owner);
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
    });
  });
});
