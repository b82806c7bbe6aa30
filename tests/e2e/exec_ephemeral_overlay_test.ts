/**
 * `exec --ephemeral` on an overlay, proven with the real CLI and backends:
 * bubblewrap as root and as the rig's unprivileged user, chroot as root. The
 * guest deletes, renames and rewrites files of the base, and the base's
 * tree checksum is unchanged afterwards; parallel runs do not see each
 * other; a timeout, SIGINT and SIGKILL of polythene leave no upper
 * directory (after `prune`, for SIGKILL) and no mount; a host where no
 * user namespace can be made falls back to the copy; `--keep` publishes a
 * failed run's result.
 *
 * Needs root, bwrap, unshare, mount, setpriv and the user `polythene-test`
 * (scripts/setup.sh); under `CI=true` a missing one fails instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliOptions,
  type CliResult,
  hostProgram,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import {
  makeBusyboxStore,
  missingFor,
  onHostPath,
  type StagedStore,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { NO_MORE_NAMESPACES } from "../helpers/exec_shapes.ts";
import { treeLines } from "../helpers/tree_sum.ts";
import { jailPrefix } from "../helpers/jail.ts";
import { overlayArgv, overlayNamespace } from "../../src/backends/overlay.ts";

const USER = testUser();

function lacking(needs: { user?: boolean; programs: string[] }) {
  return missingFor({ root: true, ...needs, found: onHostPath });
}

const CORE = ["unshare", "mount", "sh"];

/**
 * What the guest does to the base: deletes a file and a directory, renames
 * a file and a directory, rewrites one in place and one by replacement,
 * chmods one, adds one; then prints what it sees.
 */
const VANDAL = [
  "sh",
  "-c",
  [
    "rm /bin/ls",
    "rm -r /root",
    "mv /bin/cat /bin/cat2",
    "mv /usr /usr2",
    "echo rewritten > /etc/group",
    "echo replaced > /etc/passwd.new && mv /etc/passwd.new /etc/passwd",
    "chmod 0700 /sbin",
    "echo new > /added",
    "/bin/busybox cat /etc/group",
    "pwd",
  ].join(" && "),
];

function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/** `polythene exec --ephemeral --verbose ... UUID -- argv`. */
function ephemeral(
  staged: StagedStore,
  options: string[],
  argv: string[],
  cli: CliOptions = {},
): Promise<CliResult> {
  return runPolythene([
    "exec",
    "--ephemeral",
    "--verbose",
    "-s",
    staged.store,
    ...options,
    staged.uuid,
    "--",
    ...argv,
  ], cli);
}

/** Asserts the run was on an overlay, under `backend`. */
function assertOverlay(result: CliResult, backend: string): void {
  assert.match(result.stderr, /ephemeral overlay of /, show(result));
  assert.match(result.stderr, new RegExp(`using backend ${backend}\\n`));
  assert.doesNotMatch(result.stderr, /ephemeral clone /, show(result));
}

/** Names left in the store's run directories (none once a run is over). */
async function runLeftovers(store: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${store}/.polythene/run`)) {
      names.push(e.name);
    }
  } catch {
    // No run directory yet.
  }
  return names;
}

/** Mounts of this (the host's) namespace under `store`. */
async function mountsUnder(store: string): Promise<string[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  return text.split("\n").filter((l) =>
    l.includes(store) || l.includes("polythene-overlay")
  );
}

/** Runs `fn` with a busybox store owned by `owner`, then removes it. */
async function withStore(
  owner: TestUser | undefined,
  fn: (staged: StagedStore, cli: CliOptions) => Promise<void>,
): Promise<void> {
  const source = owner && await sourceReadableBy(owner);
  const staged = await makeBusyboxStore(owner);
  try {
    await fn(staged, { user: owner, source: source?.dir });
  } finally {
    // A failed test may leave files of subordinate ids: root removes all.
    await staged.cleanup();
    await source?.cleanup();
  }
}

/** Vandalises the base in one ephemeral run and checks it is unchanged. */
async function assertBaseSurvives(
  staged: StagedStore,
  options: string[],
  backend: string,
  cli: CliOptions = {},
): Promise<void> {
  const before = await treeLines(staged.rootfs);
  // A working directory the image lacks: made in the run's tree only.
  const workdir = ["--workdir", "/made/here"];
  const result = await ephemeral(staged, [...workdir, ...options], VANDAL, cli);
  assert.equal(result.code, 0, show(result));
  assert.equal(result.stdout, "rewritten\n/made/here\n", show(result));
  assertOverlay(result, backend);
  assert.deepEqual(await treeLines(staged.rootfs), before, "base unchanged");
  assert.deepEqual(await runLeftovers(staged.store), [], "run dir removed");
  assert.deepEqual(await mountsUnder(staged.store), [], "no mount on host");
}

testNeeding(
  lacking({ programs: ["bwrap", ...CORE] }),
  "ephemeral overlay: bwrap as root leaves the base byte for byte",
  () =>
    withStore(
      undefined,
      (staged) => assertBaseSurvives(staged, [], "bubblewrap"),
    ),
);

testNeeding(
  lacking({ programs: ["setpriv", ...CORE] }),
  "ephemeral overlay: chroot as root leaves the base byte for byte",
  () =>
    withStore(
      undefined,
      (staged) =>
        assertBaseSurvives(staged, ["--isolation", "chroot"], "chroot"),
    ),
);

testNeeding(
  lacking({ user: true, programs: ["bwrap", "setpriv", ...CORE] }),
  "ephemeral overlay: bwrap unprivileged (full and fake id maps) leaves the base, and prune sweeps a SIGKILLed run",
  () =>
    withStore(USER, async (staged, cli) => {
      for (const map of ["full", "fake"]) {
        const idMap = ["--id-map", map];
        await assertBaseSurvives(staged, idMap, "bubblewrap", cli);
      }
      // --keep in full maps: the kept entry holds the chowned file with its
      // subordinate owner, and not the deleted one.
      const failed = await ephemeral(staged, ["--keep", "--id-map", "full"], [
        "sh",
        "-c",
        "rm /bin/ls && echo x > /owned && chown 5:5 /owned && exit 1",
      ], cli);
      assert.equal(failed.code, 1, show(failed));
      const kept = failed.stderr.match(/kept the failed run as (\S+)$/m)?.[1];
      assert.ok(kept !== undefined, show(failed));
      const owned = await Deno.lstat(`${staged.store}/${kept}/owned`);
      assert.notEqual(owned.uid, USER!.uid, "a subordinate id, not the user");
      assert.notEqual(owned.uid, 0);
      await assert.rejects(
        Deno.lstat(`${staged.store}/${kept}/bin/ls`),
        Deno.errors.NotFound,
      );
      const rm = await runPolythene(["rm", "-s", staged.store, kept], cli);
      assert.equal(rm.code, 0, show(rm));
      // Files of a subordinate id and overlayfs's d--------- work dir are
      // left when polythene is killed; prune, as the user, removes them.
      const before = await treeLines(staged.rootfs);
      await killedRun(staged, cli, "SIGKILL", [
        "chown 5:5 /etc/group && mkdir /d && chown 6 /d && touch /d/f",
      ]);
      const prune = await runPolythene(["prune", "-s", staged.store], cli);
      assert.equal(prune.code, 0, show(prune));
      assert.deepEqual(await runLeftovers(staged.store), []);
      assert.deepEqual(await treeLines(staged.rootfs), before);
    }),
);

/**
 * Starts an ephemeral run that marks its start in its upper directory and
 * sleeps, sends polythene `signal` once the mark is there, and returns the
 * result.
 */
async function killedRun(
  staged: StagedStore,
  cli: CliOptions,
  signal: Deno.Signal,
  first: string[] = [],
): Promise<CliResult> {
  let pid = 0;
  const run = ephemeral(staged, [], [
    "sh",
    "-c",
    [...first, "touch /started", "exec sleep 30"].join(" && "),
  ], { ...cli, onStart: (p) => pid = p });
  let started = false;
  for (let i = 0; i < 400 && !started; i++) {
    for (const name of await runLeftovers(staged.store)) {
      try {
        await Deno.lstat(
          `${staged.store}/.polythene/run/${name}/overlay/upper/started`,
        );
        started = true;
      } catch {
        // Not yet.
      }
    }
    if (!started) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(started, "the command started on the overlay");
  Deno.kill(pid, signal);
  return await run;
}

testNeeding(
  lacking({ programs: ["bwrap", ...CORE] }),
  "ephemeral overlay: timeout, SIGINT and SIGKILL leave no upper dir and no mount",
  () =>
    withStore(undefined, async (staged) => {
      const before = await treeLines(staged.rootfs);
      // --hosts image: no mount point to make (the script's plain mount).
      const timedOut = await ephemeral(staged, [
        "--timeout",
        "1",
        "--hosts",
        "image",
      ], [
        "sleep",
        "30",
      ]);
      assert.equal(timedOut.code, 124, show(timedOut));
      assertOverlay(timedOut, "bubblewrap");
      assert.deepEqual(await runLeftovers(staged.store), []);

      const interrupted = await killedRun(staged, {}, "SIGINT");
      assert.equal(interrupted.code, 130, show(interrupted));
      assert.deepEqual(await runLeftovers(staged.store), []);

      const killed = await killedRun(staged, {}, "SIGKILL");
      assert.equal(killed.code, 137, show(killed));
      assert.equal((await runLeftovers(staged.store)).length, 1, "left");
      const prune = await runPolythene(["prune", "-s", staged.store]);
      assert.equal(prune.code, 0, show(prune));
      assert.deepEqual(await runLeftovers(staged.store), []);
      assert.deepEqual(await mountsUnder(staged.store), []);
      assert.deepEqual(await treeLines(staged.rootfs), before);
    }),
);

testNeeding(
  lacking({ programs: ["bwrap", ...CORE] }),
  "ephemeral overlay: eight parallel runs do not see each other's changes",
  () =>
    withStore(undefined, async (staged) => {
      const before = await treeLines(staged.rootfs);
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          ephemeral(staged, [], [
            "sh",
            "-c",
            `echo ${i} > /etc/mine && rm /bin/echo && sleep 1 && ` +
            `cat /etc/mine && ls / | grep -c installed; ` +
            `touch /installed-${i}; ls / | grep -c installed`,
          ])),
      );
      runs.forEach((run, i) => {
        assert.equal(run.code, 0, show(run));
        assert.equal(run.stdout, `${i}\n0\n1\n`, show(run));
        assertOverlay(run, "bubblewrap");
      });
      assert.deepEqual(await treeLines(staged.rootfs), before);
      assert.deepEqual(await runLeftovers(staged.store), []);
    }),
);

testNeeding(
  lacking({ programs: ["bwrap", ...CORE] }),
  "ephemeral overlay: --keep publishes a failed run's result, deletions and all",
  () =>
    withStore(undefined, async (staged) => {
      const before = await treeLines(staged.rootfs);
      const plain = await runPolythene([
        "exec",
        "--keep",
        "-s",
        staged.store,
        staged.uuid,
        "--",
        "false",
      ]);
      assert.equal(plain.code, 2, show(plain));
      assert.match(plain.stderr, /--keep needs --ephemeral/, show(plain));
      const ok = await ephemeral(staged, ["--keep"], ["true"]);
      assert.equal(ok.code, 0, show(ok));
      assert.doesNotMatch(ok.stderr, /kept/, "nothing kept when it succeeds");
      const failed = await ephemeral(staged, ["--keep"], [
        "sh",
        "-c",
        "rm /bin/ls && rm -r /root && mkdir /root && echo x > /root/new && " +
        "echo changed > /etc/group && echo out; exit 3",
      ]);
      assert.equal(failed.code, 3, show(failed));
      assert.equal(failed.stdout, "out\n", "stdout is the command's alone");
      const kept = failed.stderr.match(
        /^polythene: kept the failed run as ([0-9a-f-]{36})$/m,
      )?.[1];
      assert.ok(kept !== undefined, show(failed));
      const root = `${staged.store}/${kept}`;
      await assert.rejects(Deno.lstat(`${root}/bin/ls`), Deno.errors.NotFound);
      assert.deepEqual(
        [...Deno.readDirSync(`${root}/root`)].map((e) => e.name),
        ["new"],
        "an opaque directory hides the base's files",
      );
      assert.equal(await Deno.readTextFile(`${root}/etc/group`), "changed\n");
      assert.ok((await Deno.lstat(`${root}/bin/busybox`)).isFile);
      assert.deepEqual(await treeLines(staged.rootfs), before);
      const list = await runPolythene(["list", "--json", "-s", staged.store]);
      const listed = JSON.parse(list.stdout).entries as {
        uuid: string;
        ephemeral?: boolean;
        parent?: string;
      }[];
      const entry = listed.find((e) => e.uuid === kept);
      assert.equal(entry?.parent, staged.uuid, list.stdout);
      assert.ok(!entry?.ephemeral, "a kept entry is not ephemeral");
    }),
);

testNeeding(
  lacking({ user: true, programs: ["proot", "setpriv", ...CORE] }),
  "ephemeral overlay: with no user namespaces, falls back to the copy (and --keep keeps it)",
  () =>
    withStore(USER, async (staged, cli) => {
      const before = await treeLines(staged.rootfs);
      const result = await ephemeral(staged, ["--keep"], [
        ...VANDAL.slice(0, 2),
        `${VANDAL[2]}; exit 5`,
      ], { ...cli, prefix: NO_MORE_NAMESPACES });
      assert.equal(result.code, 5, show(result));
      assert.equal(result.stdout, "rewritten\n/\n", show(result));
      assert.match(
        result.stderr,
        /no overlay \(overlayfs cannot be mounted here .*\): running in a copy/,
        show(result),
      );
      assert.match(result.stderr, /using backend proot\n/, show(result));
      assert.deepEqual(await treeLines(staged.rootfs), before);
      const kept = result.stderr.match(/kept the failed run as (\S+)$/m)?.[1];
      assert.ok(kept !== undefined, show(result));
      await assert.rejects(
        Deno.lstat(`${staged.store}/${kept}/bin/ls`),
        Deno.errors.NotFound,
      );
      const prune = await runPolythene(["prune", "-s", staged.store], cli);
      assert.equal(prune.code, 0, show(prune));
      const left = await runPolythene(["list", "-s", staged.store], cli);
      assert.match(left.stdout, new RegExp(kept), "prune leaves a kept entry");
    }),
);

testNeeding(
  lacking({ programs: ["setpriv", ...CORE] }),
  "ephemeral overlay: the mount script never runs a program from the command's PATH",
  () =>
    withStore(undefined, async (staged) => {
      // chroot hands the command's environment to its set-up scripts; a
      // `mkdir` first on that PATH must not be what makes mount points.
      const dir = await Deno.makeTempDir({ prefix: "polythene-path-" });
      try {
        await Deno.writeTextFile(
          `${dir}/mkdir`,
          `#!/bin/sh\n: > ${dir}/ran\nexec /bin/mkdir "$@"\n`,
        );
        await Deno.chmod(`${dir}/mkdir`, 0o755);
        const result = await ephemeral(staged, [
          "--isolation",
          "chroot",
          "-e",
          `PATH=${dir}:/bin`,
          "--workdir",
          "/missing/dir",
        ], ["sh", "-c", 'pwd; echo "$PATH"']);
        assert.equal(result.code, 0, show(result));
        assert.equal(result.stdout, `/missing/dir\n${dir}:/bin\n`);
        assertOverlay(result, "chroot");
        await assert.rejects(Deno.lstat(`${dir}/ran`), Deno.errors.NotFound);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
);

testNeeding(
  lacking({ programs: CORE }),
  "ephemeral overlay: a symlink swapped into the image stops the mount script instead of taking a mkdir to the host",
  async () => {
    // Run in a jail (the host read-only but for this directory): the link
    // points into the directory itself, so without nosymfollow the mkdir
    // would succeed there and the test would see it.
    const tmp = await Deno.makeTempDir({ prefix: "polythene-ovl-link-" });
    try {
      const dirs = ["lower/real", "upper1", "work1", "upper2", "work2"];
      for (const d of [...dirs, "merged", "host"]) {
        await Deno.mkdir(`${tmp}/${d}`, { recursive: true });
      }
      await Deno.symlink(`${tmp}/host`, `${tmp}/lower/link`);
      // A volatile overlay's work directory is good for one mount only.
      const run = async (path: string, n: number) => {
        const argv = [
          ...jailPrefix([tmp]),
          ...overlayNamespace(hostProgram("unshare")!, {
            uid: 0,
            realRoot: true,
          }),
          ...overlayArgv(
            {
              lower: `${tmp}/lower`,
              upper: `${tmp}/upper${n}`,
              work: `${tmp}/work${n}`,
              merged: `${tmp}/merged`,
              unshare: hostProgram("unshare")!,
              mount: hostProgram("mount")!,
              sh: hostProgram("sh")!,
              create: [{ kind: "dir", path }],
            },
            false,
            [hostProgram("sh")!, "-c", ":"],
          ),
        ];
        return await new Deno.Command(argv[0]!, {
          args: argv.slice(1),
          stdout: "null",
          stderr: "piped",
        }).output();
      };
      const control = await run("/real/made", 1);
      assert.equal(control.code, 0, new TextDecoder().decode(control.stderr));
      assert.ok((await Deno.lstat(`${tmp}/upper1/real/made`)).isDirectory);
      const swapped = await run("/link/escape", 2);
      assert.notEqual(swapped.code, 0, "the mkdir through the link failed");
      assert.match(
        new TextDecoder().decode(swapped.stderr),
        /symbolic links/i,
      );
      assert.deepEqual([...Deno.readDirSync(`${tmp}/host`)], []);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
