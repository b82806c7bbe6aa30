/**
 * Cross-backend conformance of the command's lifetime: `--timeout`, signals
 * sent to polythene, and background children. The same checks run on
 * bubblewrap, proot and chroot, as root, through the real CLI; each run is
 * `--verbose` and must log `using backend X` once (no fallback).
 *
 * The timeout check runs once more under emulation, in an arm64 busybox
 * (`tests/helpers/emulated_store.ts`): proot with qemu-user, and bubblewrap
 * and chroot over a binfmt_misc entry (the host's, or the private instance
 * exec makes).
 *
 * Every run carries a unique number (`sleep TAG`), so "nothing is left" means
 * no live process whose command line holds TAG. Zombies do not count: this
 * VM's pid 1 does not reap orphans. Nothing is timed: a run must end on its
 * own, and a watchdog that kills the tagged processes of a run that hangs
 * (a leaked one would hold the CLI's stdout open) fails that run.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { BACKEND_NAMES, type BackendName } from "../../src/backends/names.ts";
import {
  type CliOptions,
  type CliResult,
  runPolythene,
} from "../helpers/cli.ts";
import {
  backendMissingAsRoot as missingFor,
  makeBusyboxStore,
  type StagedStore,
  testNeeding,
} from "../helpers/fixtures.ts";
import {
  arm64KernelRuns,
  arm64StoreMissing,
  makeArm64BusyboxStore,
} from "../helpers/emulated_store.ts";
import { onlySteps, type Target } from "../helpers/targets.ts";

function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/** A process as /proc shows it. */
interface Proc {
  pid: number;
  /** One-letter state, as in `ps`. */
  state: string;
  /** argv joined with spaces. */
  cmd: string;
}

/** A number no other process has on its command line. */
function uniqueTag(): string {
  const [random] = crypto.getRandomValues(new Uint32Array(1));
  return String(7_000_000 + random! % 1_000_000);
}

/** Live (not zombie) processes with `tag` as a word of their command line. */
async function liveWith(tag: string): Promise<Proc[]> {
  const found = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const dir = `/proc/${entry.name}`;
      const argv = (await Deno.readTextFile(`${dir}/cmdline`)).split("\0");
      const cmd = argv.join(" ").trim();
      if (!cmd.split(/\s+/).includes(tag)) continue;
      const stat = await Deno.readTextFile(`${dir}/stat`);
      const state = stat.charAt(stat.lastIndexOf(")") + 2);
      if (state !== "Z" && state !== "X") {
        found.push({ pid: Number(entry.name), state, cmd });
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** SIGKILLs, by pid, every live process holding `tag`. */
async function killTagged(tag: string): Promise<void> {
  for (const { pid } of await liveWith(tag)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Polls until `done` holds or `ms` have passed; returns the last value. */
async function pollFor<T>(
  ms: number,
  get: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await get();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await get();
  }
  return value;
}

/** Asserts that within ~2 s no live process holds `tag`. */
async function assertTreeGone(tag: string): Promise<void> {
  const left = await pollFor(2000, () => liveWith(tag), (l) => l.length === 0);
  const shown = left.map((p) => `${p.pid} ${p.state} ${p.cmd}`);
  assert.deepEqual(shown, [], "processes left behind");
}

/** Signals sent to polythene: what runs, and what must follow. */
const FORWARDED = [
  { signal: "SIGTERM", code: 143, stdout: "", trap: false },
  { signal: "SIGINT", code: 130, stdout: "", trap: false },
  // The command itself gets the signal, so it can clean up.
  { signal: "SIGTERM", code: 7, stdout: "bye\n", trap: true },
] as const;

/** One tagged run: `polythene exec --verbose [flags] UUID -- ARGV`. */
interface Run {
  staged: StagedStore;
  backend: BackendName;
  tag: string;
  flags?: string[];
  argv: string[];
  options?: CliOptions;
}

/** How long a run may take before the watchdog ends it: a hang bound. */
const WATCHDOG_MS = 30_000;

/**
 * Runs it and asserts which backend ran and that the run ended on its own:
 * after {@linkcode WATCHDOG_MS} the watchdog kills every process holding the
 * tag, and the run fails, whatever it returned then.
 */
async function exec(run: Run): Promise<CliResult> {
  let fired = false;
  const watchdog = setTimeout(() => {
    fired = true;
    killTagged(run.tag);
  }, WATCHDOG_MS);
  try {
    const result = await runPolythene([
      "exec",
      "--verbose",
      "--store",
      run.staged.store,
      "--isolation",
      run.backend,
      ...(run.flags ?? []),
      run.staged.uuid,
      "--",
      ...run.argv,
    ], run.options);
    const used = [...result.stderr.matchAll(/using backend (\S+)$/gm)]
      .map((m) => m[1]);
    assert.deepEqual(used, [run.backend], `backend used\n${show(result)}`);
    assert.ok(!fired, `the run did not end on its own\n${show(result)}`);
    return result;
  } finally {
    clearTimeout(watchdog);
  }
}

/**
 * Each run of the suite: every backend on the host's own busybox, and once
 * under emulation (proot with qemu-user, an arm64 busybox), where only the
 * steps named in `only` run.
 */
const TARGETS: Target[] = [
  ...BACKEND_NAMES.map((backend) => ({
    name: backend,
    backend,
    missing: missingFor(backend),
    stage: () => makeBusyboxStore(),
  })),
  {
    name: "proot under qemu-user (arm64)",
    backend: "proot",
    missing: missingFor("proot") ?? await arm64StoreMissing(),
    stage: makeArm64BusyboxStore,
    only: ["--timeout kills the whole tree, SIGTERM ignored: exit 124"],
  },
  // Over the host's binfmt_misc entry, or a private instance exec makes;
  // left out on a kernel that has neither (exec_arch_test.ts shows the
  // refusal there).
  ...(await arm64KernelRuns()
    ? [
      {
        name: "bubblewrap under qemu-user (arm64)",
        backend: "bubblewrap" as const,
        missing: missingFor("bubblewrap") ?? await arm64StoreMissing(),
        stage: makeArm64BusyboxStore,
        only: ["--timeout kills the whole tree, SIGTERM ignored: exit 124"],
      },
      {
        name: "chroot under qemu-user (arm64)",
        backend: "chroot" as const,
        missing: missingFor("chroot") ?? await arm64StoreMissing(),
        stage: makeArm64BusyboxStore,
        only: ["--timeout kills the whole tree, SIGTERM ignored: exit 124"],
      },
    ]
    : []),
];

for (const { name, backend, missing, stage, only } of TARGETS) {
  const title = `conformance: ${name}: process lifetime`;
  testNeeding(missing, title, async (context) => {
    using t = onlySteps(context, only);
    const staged = await stage();
    const tags: string[] = [];
    const newTag = () => {
      tags.push(uniqueTag());
      return tags.at(-1)!;
    };
    try {
      await t.step(
        "--timeout kills the whole tree, SIGTERM ignored: exit 124",
        async () => {
          // Every process ignores SIGTERM (the disposition is inherited),
          // so only SIGKILL ends them before the watchdog does.
          const tag = newTag();
          const script =
            `trap '' TERM; sleep ${tag} & setsid sleep ${tag} & sleep ${tag}`;
          const argv = ["sh", "-c", script];
          const flags = ["--timeout", "1"];
          const result = await exec({ staged, backend, tag, flags, argv });
          assert.equal(result.code, 124, show(result));
          await assertTreeGone(tag);
        },
      );

      for (const forwarded of FORWARDED) {
        const { signal, stdout, trap } = forwarded;
        // proot 5.1 reports a tracee killed by a signal as exit 255.
        const code = backend === "proot" && !trap ? 255 : forwarded.code;
        const what = trap ? "can be trapped" : "is forwarded";
        const known = code === forwarded.code
          ? ""
          : "known proot 5.1 difference: ";
        await t.step(`${known}${signal} ${what}: exit ${code}`, async () => {
          const tag = newTag();
          let pid: number | undefined;
          // The runner may have started this test with SIGINT ignored, and
          // polythene would inherit that.
          const prefix = ["env", `--default-signal=${signal.slice(3)}`];
          const onStart = (p: number) => pid = p;
          const handler = `trap 'echo bye; exit 7' TERM; sleep ${tag} & wait`;
          const argv = trap ? ["sh", "-c", handler] : ["sleep", tag];
          const options = { prefix, onStart };
          const running = exec({ staged, backend, tag, argv, options });
          running.catch(() => {}); // Awaited below.
          const started = await pollFor(
            5000,
            () => liveWith(tag),
            (l) => l.some((p) => p.cmd === `sleep ${tag}`),
          );
          if (pid === undefined || started.length === 0) {
            await killTagged(tag);
            await running.catch(() => {});
            assert.fail("sleep never started");
          }
          Deno.kill(pid, signal);
          const result = await running;
          assert.equal(result.code, code, show(result));
          assert.equal(result.stdout, stdout, show(result));
          await assertTreeGone(tag);
        });
      }

      if (backend === "proot") {
        await t.step(
          "known proot 5.1 difference: it waits for background children",
          async () => {
            // proot exits with its last tracee, and with that one's status:
            // the child's file exists by the time the run returns.
            const tag = newTag();
            const marker = `bg-${tag}`;
            const child = `sh -c 'sleep 1; touch /${marker}; exit 5' ${tag}`;
            const argv = ["sh", "-c", `${child} & exit 3`];
            const result = await exec({ staged, backend, tag, argv });
            assert.equal(result.code, 5, show(result));
            assert.ok(
              (await Deno.lstat(`${staged.rootfs}/${marker}`)).isFile,
              "the background child finished before the run returned",
            );
            await assertTreeGone(tag);
          },
        );
      } else {
        await t.step("the command's exit ends the run", async () => {
          // Background children neither outlive the command nor decide its
          // status: one that would sleep for months is killed, and the run
          // ends before the watchdog.
          const tag = newTag();
          const argv = ["sh", "-c", `sh -c 'sleep ${tag}; exit 5' & exit 3`];
          const result = await exec({ staged, backend, tag, argv });
          assert.equal(result.code, 3, show(result));
          await assertTreeGone(tag);
        });
      }
    } finally {
      for (const tag of tags) await killTagged(tag);
      await staged.cleanup();
    }
  });
}
