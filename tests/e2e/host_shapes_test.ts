/**
 * Which backend `polythene exec --verbose` picks in each host shape, proven
 * by running the CLI for real: as the rig's unprivileged user, as that user
 * inside a child user namespace that may create no more namespaces, and as
 * root with bubblewrap (and proot) left off PATH. Each test asserts the
 * verbose `using backend NAME` line, the command's stdout and its exit code,
 * and uses its own fresh store so that the probes really run.
 *
 * Needs root (to switch to the test user with `setpriv`), the user
 * `polythene-test` (scripts/setup.sh) and the backend tools; under
 * `CI=true` a missing one fails the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliOptions,
  type CliResult,
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
import { NO_MORE_NAMESPACES, withPathOf } from "../helpers/exec_shapes.ts";
import { chroot } from "../../src/backends/chroot.ts";

const USER = testUser();

/** The command run in every shape: output, then a distinctive status. */
const COMMAND = ["sh", "-c", "echo hello; exit 7"];
const STATUS = 7;

/** Tools the root-owned PATH directories hold, besides the backends. */
/** What chroot needs (setpriv too), which also covers proot's root needs. */
const CHROOT_TOOLS = [...chroot.programs];

/** What this machine lacks for a test, or undefined when nothing. */
function lacking(
  needs: { user?: boolean; programs: string[] },
): string | undefined {
  return missingFor({ root: true, ...needs, found: onHostPath });
}

/** The test user; only called where {@linkcode lacking} checked for it. */
function user(): TestUser {
  assert.ok(USER !== undefined, 'The user "polythene-test" is missing');
  return USER;
}

/**
 * Runs `fn` with a fresh busybox store owned by `owner` (root when absent)
 * and the CLI options that run as `owner`, then removes everything as root.
 */
async function withStore(
  owner: TestUser | undefined,
  fn: (staged: StagedStore, cli: CliOptions) => Promise<void>,
): Promise<void> {
  const source = owner === undefined
    ? undefined
    : await sourceReadableBy(owner);
  try {
    const staged = await makeBusyboxStore(owner);
    try {
      await fn(staged, { user: owner, source: source?.dir });
    } finally {
      await staged.cleanup();
    }
  } finally {
    await source?.cleanup();
  }
}

/** `polythene exec --verbose --store STORE UUID -- ARGV`. */
function exec(
  staged: StagedStore,
  options: CliOptions,
  argv: string[] = COMMAND,
): Promise<CliResult> {
  return runPolythene(
    ["exec", "--verbose", "--store", staged.store, staged.uuid, "--", ...argv],
    options,
  );
}

/** Asserts that `COMMAND` ran under `backend`: its output and status. */
function assertRanUnder(result: CliResult, backend: string): void {
  const why = explain(result);
  assert.equal(result.code, STATUS, `exit code ${STATUS}\n${why}`);
  assert.equal(result.stdout, "hello\n", `stdout "hello"\n${why}`);
  assert.match(result.stderr, new RegExp(`using backend ${backend}\\n`), why);
  const used = [...result.stderr.matchAll(/using backend (\S+)/g)];
  assert.equal(used.length, 1, `exactly one backend used\n${why}`);
}

/** Everything the CLI printed, for failure messages. */
function explain(result: CliResult): string {
  return [
    `polythene exited with ${result.code}`,
    `--- stdout\n${result.stdout}`,
    `--- stderr\n${result.stderr}`,
  ].join("\n");
}

/** The parsed probe cache of `staged`. */
async function probeRecords(
  staged: StagedStore,
): Promise<Record<string, { ok: boolean }>> {
  return JSON.parse(
    await Deno.readTextFile(`${staged.store}/.polythene/probes.json`),
  );
}

/** Writes `text` as the probe cache of `staged`, owned by `owner`. */
async function writeProbeCache(
  staged: StagedStore,
  owner: TestUser,
  text: string,
): Promise<void> {
  const file = `${staged.store}/.polythene/probes.json`;
  await Deno.writeTextFile(file, text);
  await Deno.chown(file, owner.uid, owner.gid);
}

testNeeding(
  lacking({ user: true, programs: ["setpriv", "bwrap", "sh"] }),
  "the unprivileged user runs under bubblewrap",
  async () => {
    await withStore(user(), async (staged, cli) => {
      const result = await exec(staged, cli);
      assertRanUnder(result, "bubblewrap");
      const why = explain(result);
      assert.match(result.stderr, /host: uid=\d+ real-root=false/, why);
      assert.match(result.stderr, /bubblewrap: probing: /, why);
    });
  },
);

testNeeding(
  lacking({
    user: true,
    programs: ["setpriv", "unshare", "bwrap", "proot", "sh"],
  }),
  "mapped root that may create no user namespace falls back to proot",
  async () => {
    await withStore(user(), async (staged, cli) => {
      const result = await exec(staged, {
        ...cli,
        prefix: NO_MORE_NAMESPACES,
      });
      assertRanUnder(result, "proot");
      const why = explain(result);
      // uid 0, but the host's root-owned "/" shows as the overflow uid.
      assert.match(result.stderr, /host: uid=0 real-root=false/, why);
      assert.match(result.stderr, /bubblewrap: probing: /, why);
      // bwrap 0.8.0 words this ENOSPC itself ("Creating new namespace
      // failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded
      // (ENOSPC)") instead of strerror's "No space left on device".
      assert.match(
        result.stderr,
        /bubblewrap: unusable: probe failed: .*(ENOSPC|No space left on device)/,
        why,
      );
    });
  },
);

testNeeding(
  lacking({ programs: ["proot", ...CHROOT_TOOLS] }),
  "root without bwrap on PATH falls back to proot",
  async () => {
    await withStore(undefined, async (staged, cli) => {
      await withPathOf(["proot", ...CHROOT_TOOLS], async (path) => {
        const result = await exec(staged, { ...cli, path });
        assertRanUnder(result, "proot");
        const why = explain(result);
        assert.match(result.stderr, /host: uid=0 real-root=true/, why);
        assert.match(
          result.stderr,
          /bubblewrap: unusable: "bwrap" not found on PATH/,
          why,
        );
      });
    });
  },
);

testNeeding(
  lacking({ programs: CHROOT_TOOLS }),
  "root with neither bwrap nor proot on PATH falls back to chroot",
  async () => {
    await withStore(undefined, async (staged, cli) => {
      await withPathOf(CHROOT_TOOLS, async (path) => {
        const result = await exec(staged, { ...cli, path });
        assertRanUnder(result, "chroot");
        const why = explain(result);
        assert.match(result.stderr, /host: uid=0 real-root=true/, why);
        assert.match(result.stderr, /bubblewrap: unusable: "bwrap" not/, why);
        assert.match(result.stderr, /proot: unusable: "proot" not/, why);
        assert.match(result.stderr, /chroot: probing: /, why);
      });
    });
  },
);

testNeeding(
  lacking({ user: true, programs: ["setpriv", ...CHROOT_TOOLS] }),
  "the unprivileged user with neither bwrap nor proot gets exit 126",
  async () => {
    await withStore(user(), async (staged, cli) => {
      await withPathOf(CHROOT_TOOLS, async (path) => {
        const result = await exec(staged, { ...cli, path });
        const why = explain(result);
        assert.equal(result.code, 126, `exit code 126\n${why}`);
        assert.equal(result.stdout, "", `no stdout\n${why}`);
        assert.match(
          result.stderr,
          /^polythene: No isolation backend can run on this host:$/m,
          why,
        );
        for (
          const line of [
            /^ {2}bubblewrap: "bwrap" not found on PATH \(install bubblewrap\)$/m,
            /^ {2}proot: "proot" not found on PATH \(install proot\)$/m,
            /^ {2}chroot: needs real root \(.*\) \(run as root\)$/m,
          ]
        ) {
          assert.match(result.stderr, line, why);
        }
        assert.doesNotMatch(result.stderr, /using backend/, why);
      });
    });
  },
);

testNeeding(
  lacking({ user: true, programs: ["setpriv", "bwrap", "sh"] }),
  "a warm exec uses the cached probe and still runs",
  async () => {
    await withStore(user(), async (staged, cli) => {
      const cold = await exec(staged, cli);
      assertRanUnder(cold, "bubblewrap");
      assert.match(cold.stderr, /bubblewrap: probing: /, explain(cold));
      const records = await probeRecords(staged);
      const keys = Object.keys(records).filter((k) =>
        k.startsWith("bubblewrap|")
      );
      assert.equal(keys.length, 1, JSON.stringify(records));
      assert.equal(records[keys[0]!]?.ok, true, JSON.stringify(records));

      const warm = await exec(staged, cli);
      assertRanUnder(warm, "bubblewrap");
      const why = explain(warm);
      assert.match(warm.stderr, /bubblewrap: probe cached from \S+Z\n/, why);
      assert.doesNotMatch(warm.stderr, /probing:/, why);
    });
  },
);

testNeeding(
  lacking({ user: true, programs: ["setpriv", "bwrap", "sh"] }),
  "a corrupt or deleted probe cache is probed again, not an error",
  async () => {
    const owner = user();
    await withStore(owner, async (staged, cli) => {
      assertRanUnder(await exec(staged, cli), "bubblewrap");
      const keys = Object.keys(await probeRecords(staged));
      const broken = [
        "{not json",
        "[1, 2]",
        JSON.stringify(Object.fromEntries(keys.map((k) => [k, null]))),
        JSON.stringify(Object.fromEntries(keys.map((k) => [k, "yes"]))),
      ];
      for (const text of broken) {
        await writeProbeCache(staged, owner, text);
        const result = await exec(staged, cli);
        const why = `with probes.json ${text}\n${explain(result)}`;
        assertRanUnder(result, "bubblewrap");
        assert.match(result.stderr, /bubblewrap: probing: /, why);
        const records = await probeRecords(staged);
        assert.equal(records[keys[0]!]?.ok, true, why);
      }

      await Deno.remove(`${staged.store}/.polythene/probes.json`);
      const result = await exec(staged, cli);
      assertRanUnder(result, "bubblewrap");
      assert.match(result.stderr, /bubblewrap: probing: /, explain(result));
    });
  },
);
