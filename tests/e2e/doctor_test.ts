/**
 * `polythene doctor` in the rig's real host shapes (as in
 * host_shapes_test.ts): the unprivileged user, that user as mapped root in a
 * child user namespace that may create no more, bwrap off PATH, and the user
 * with neither bwrap nor proot. Each run asserts the verdict per backend,
 * the fix, the backend `exec` would use and the exit code, through `--json`
 * (and the text report once); `--refresh` is shown to probe again.
 *
 * Needs root, the user `polythene-test` and the backend tools; under
 * `CI=true` a missing one fails the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DoctorReport } from "../../src/backends/doctor.ts";
import {
  type CliOptions,
  type CliResult,
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
  makeBusyboxStore,
  missingFor,
  onHostPath,
  type StagedStore,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";

const USER = testUser();
const CHROOT_TOOLS = ["unshare", "chroot", "mount", "sh", "cat"];

function lacking(programs: string[]): string | undefined {
  return missingFor({
    root: true,
    user: true,
    programs: ["setpriv", ...programs],
    found: onHostPath,
  });
}

/** Runs `fn` with a fresh store owned by the test user, then cleans up. */
async function withUserStore(
  fn: (staged: StagedStore, cli: CliOptions) => Promise<void>,
): Promise<void> {
  const user: TestUser = USER!;
  const source = await sourceReadableBy(user);
  try {
    const staged = await makeBusyboxStore(user);
    try {
      await fn(staged, { user, source: source.dir });
    } finally {
      await staged.cleanup();
    }
  } finally {
    await source.cleanup();
  }
}

/** `polythene doctor --json --store STORE [args]`, parsed. */
async function doctor(
  staged: StagedStore,
  cli: CliOptions,
  args: string[] = [],
): Promise<{ result: CliResult; report: DoctorReport }> {
  const result = await runPolythene(
    ["doctor", "--json", "--store", staged.store, ...args],
    cli,
  );
  let report: DoctorReport;
  try {
    report = JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`doctor --json printed no JSON\n${show(result)}`, {
      cause: error,
    });
  }
  return { result, report };
}

function backend(report: DoctorReport, name: string) {
  const found = report.backends.find((b) => b.name === name);
  assert.ok(found, `${name} in ${JSON.stringify(report)}`);
  return found;
}

testNeeding(
  lacking(["bwrap", "sh"]),
  "doctor: the unprivileged user gets bubblewrap; chroot is not root",
  async () => {
    await withUserStore(async (staged, cli) => {
      const { result, report } = await doctor(staged, cli);
      const why = show(result);
      assert.equal(result.code, 0, why);
      assert.equal(report.schema, 1, why);
      assert.equal(report.selected, "bubblewrap", why);
      assert.equal(report.host.realRoot, false, why);
      const bwrap = backend(report, "bubblewrap");
      assert.equal(bwrap.usable, true, why);
      assert.equal(bwrap.probe?.ok, true, why);
      assert.match(bwrap.programs.bwrap ?? "", /^\/.*\/bwrap$/, why);
      assert.match(bwrap.version ?? "", /^bwrap \d+\.\d+/, why);
      assert.deepEqual(
        { pid: bwrap.isolates.pid, network: bwrap.isolates.network },
        { pid: true, network: true },
      );
      const chroot = backend(report, "chroot");
      assert.equal(chroot.problem?.kind, "not-root", why);
      assert.equal(chroot.probe, null, why);
      // The text report says the same.
      const text = await runPolythene(
        ["doctor", "--store", staged.store],
        cli,
      );
      assert.equal(text.code, 0, show(text));
      assert.match(text.stdout, /^bubblewrap: works$/m, show(text));
      assert.match(text.stdout, /^exec would use: bubblewrap$/m, show(text));
    });
  },
);

testNeeding(
  lacking(["unshare", "bwrap", "proot", "sh"]),
  "doctor: mapped root with max_user_namespaces=0 explains ENOSPC, uses proot",
  async () => {
    await withUserStore(async (staged, cli) => {
      const { result, report } = await doctor(staged, {
        ...cli,
        prefix: NO_MORE_NAMESPACES,
      });
      const why = show(result);
      assert.equal(result.code, 0, why);
      assert.equal(report.host.uid, 0, why);
      assert.equal(report.host.realRoot, false, why);
      assert.equal(report.host.sysctls["user.max_user_namespaces"], 0, why);
      const bwrap = backend(report, "bubblewrap");
      assert.equal(bwrap.usable, false, why);
      assert.equal(bwrap.probe?.ok, false, why);
      assert.equal(bwrap.problem?.kind, "userns-limit", why);
      assert.match(bwrap.problem?.reason ?? "", /ENOSPC|No space left/, why);
      assert.match(bwrap.problem?.fix ?? "", /max_user_namespaces/, why);
      assert.match(bwrap.problem?.fix ?? "", /--isolation proot/, why);
      assert.equal(backend(report, "proot").usable, true, why);
      assert.equal(backend(report, "chroot").problem?.kind, "not-root", why);
      assert.equal(report.selected, "proot", why);
    });
  },
);

testNeeding(
  lacking(["proot", ...CHROOT_TOOLS]),
  "doctor: bwrap off PATH is a missing program; proot is used",
  async () => {
    await withUserStore(async (staged, cli) => {
      await withPathOf(["proot", ...CHROOT_TOOLS], async (path) => {
        const { result, report } = await doctor(staged, { ...cli, path });
        const why = show(result);
        assert.equal(result.code, 0, why);
        const bwrap = backend(report, "bubblewrap");
        assert.equal(bwrap.problem?.kind, "program-missing", why);
        assert.equal(bwrap.programs.bwrap, null, why);
        assert.match(bwrap.problem?.fix ?? "", /install bubblewrap/, why);
        assert.equal(report.selected, "proot", why);
      });
    });
  },
);

testNeeding(
  lacking(CHROOT_TOOLS),
  "doctor: the unprivileged user with neither bwrap nor proot exits 126",
  async () => {
    await withUserStore(async (staged, cli) => {
      await withPathOf(CHROOT_TOOLS, async (path) => {
        const { result, report } = await doctor(staged, { ...cli, path });
        const why = show(result);
        assert.equal(result.code, 126, why);
        assert.equal(report.selected, null, why);
        assert.deepEqual(
          report.backends.map((b) => [b.name, b.problem?.kind]),
          [
            ["bubblewrap", "program-missing"],
            ["proot", "program-missing"],
            ["chroot", "not-root"],
          ],
          why,
        );
        assert.match(backend(report, "chroot").problem?.fix ?? "", /root/);
        const text = await runPolythene(
          ["doctor", "--store", staged.store],
          { ...cli, path },
        );
        assert.equal(text.code, 126, show(text));
        assert.match(text.stdout, /^exec would use: none/m, show(text));
      });
    });
  },
);

testNeeding(
  lacking(["bwrap", "sh"]),
  "doctor: uses exec's probe cache, and --refresh probes again",
  async () => {
    await withUserStore(async (staged, cli) => {
      const exec = await runPolythene(
        ["exec", "--store", staged.store, staged.uuid, "--", "true"],
        cli,
      );
      assert.equal(exec.code, 0, show(exec));
      const cache = `${staged.store}/.polythene/probes.json`;
      const before = JSON.parse(await Deno.readTextFile(cache));
      const probed = Object.entries(before).find(([k]) =>
        k.startsWith("bubblewrap|")
      )?.[1] as { probedAt: string } | undefined;
      assert.ok(probed, JSON.stringify(before));

      const cached = await doctor(staged, cli, [
        "--verbose",
      ]);
      const bwrap = backend(cached.report, "bubblewrap");
      assert.equal(bwrap.probe?.probedAt, probed.probedAt, show(cached.result));
      assert.match(cached.result.stderr, /bubblewrap: probe cached from/);

      const fresh = await doctor(staged, cli, ["--refresh", "--verbose"]);
      const again = backend(fresh.report, "bubblewrap");
      const why = show(fresh.result);
      assert.equal(again.probe?.ok, true, why);
      assert.notEqual(again.probe?.probedAt, probed.probedAt, why);
      assert.match(fresh.result.stderr, /bubblewrap: probing: /, why);
      const after = JSON.parse(await Deno.readTextFile(cache));
      const stored = Object.entries(after).find(([k]) =>
        k.startsWith("bubblewrap|")
      )?.[1] as { probedAt: string } | undefined;
      assert.equal(stored?.probedAt, again.probe?.probedAt, why);
    });
  },
);
