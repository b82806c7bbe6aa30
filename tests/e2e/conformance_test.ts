/**
 * Cross-backend conformance: the same checks, through the real CLI, on
 * bubblewrap, proot and chroot, as root, in a busybox rootfs. Each check
 * asserts what a user sees (exit code, stdout, stderr, files on disk) and
 * that the backend asked for is the one that ran: `--isolation` only puts it
 * first, so every run is `--verbose` and must log `using backend X` once.
 *
 * The exit-code, argv and env checks run once more under emulation, in an
 * arm64 busybox (`tests/helpers/emulated_store.ts`): proot with qemu-user,
 * and bubblewrap and chroot over a binfmt_misc entry (the host's, or the
 * private instance exec makes).
 *
 * Process lifetime (timeout, signals, background children) is in
 * `conformance_process_test.ts`.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { DEFAULT_PATH, DEVICES } from "../../src/backends/backend.ts";
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

/** Host environment given to the CLI: none of it may reach the command. */
const HOST_ENV = {
  GITHUB_TOKEN: "secret",
  SSH_AUTH_SOCK: "/tmp/x",
  AWS_SECRET_ACCESS_KEY: "aws-secret",
  LANG: "C.UTF-8",
  TERM: "xterm-test",
};

function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${
    result.stdout.slice(0, 2000)
  }\nstderr: ${result.stderr.slice(0, 4000)}`;
}

/** What the command itself wrote to stderr: after the verbose log. */
function commandStderr(result: CliResult, argv: string[]): string {
  const at = result.stderr.lastIndexOf(" polythene: running: ");
  const tail = `${argv.join(" ")}\n`;
  const end = result.stderr.indexOf(tail, at);
  assert.ok(at !== -1 && end !== -1, `no "running:" log\n${show(result)}`);
  return result.stderr.slice(end + tail.length);
}

/** Runs `polythene exec --verbose` and asserts which backend ran. */
async function exec(
  staged: StagedStore,
  backend: BackendName,
  argv: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const result = await runPolythene([
    "exec",
    "--verbose",
    "--store",
    staged.store,
    "--isolation",
    backend,
    staged.uuid,
    "--",
    ...argv,
  ], options);
  const used = [...result.stderr.matchAll(/polythene: using backend (\S+)$/gm)]
    .map((m) => m[1]);
  assert.deepEqual(used, [backend], `backend used\n${show(result)}`);
  return result;
}

/** Asserts exit code and, when given, stdout. */
function assertRun(result: CliResult, code: number, stdout?: string): void {
  assert.equal(result.code, code, `exit code\n${show(result)}`);
  if (stdout !== undefined) {
    assert.equal(result.stdout, stdout, `stdout\n${show(result)}`);
  }
}

/** `KEY=VALUE` lines as a record. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((l) => l !== "").map((line) => {
      const eq = line.indexOf("=");
      return [line.slice(0, eq), line.slice(eq + 1)];
    }),
  );
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
    only: [
      "exit codes pass through",
      "argv is passed literally",
      "env is exactly PATH, HOME and TERM",
    ],
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
        only: [
          "exit codes pass through",
          "argv is passed literally",
          "env is exactly PATH, HOME and TERM",
        ],
      },
      {
        name: "chroot under qemu-user (arm64)",
        backend: "chroot" as const,
        missing: missingFor("chroot") ?? await arm64StoreMissing(),
        stage: makeArm64BusyboxStore,
        only: [
          "exit codes pass through",
          "argv is passed literally",
          "env is exactly PATH, HOME and TERM",
        ],
      },
    ]
    : []),
];

for (const { name, backend, missing, stage, only } of TARGETS) {
  testNeeding(missing, `conformance: ${name}`, async (context) => {
    using t = onlySteps(context, only);
    const staged = await stage();
    const run = (argv: string[], options?: CliOptions) =>
      exec(staged, backend, argv, options);
    const plain = (uuid: string, argv: string[]) =>
      runPolythene([
        "exec",
        "--store",
        staged.store,
        "--isolation",
        backend,
        uuid,
        ...argv,
      ]);
    try {
      await t.step("exit codes pass through", async () => {
        assertRun(await run(["true"]), 0, "");
        assertRun(await run(["false"]), 1, "");
        assertRun(await run(["sh", "-c", "exit 42"]), 42, "");
        assertRun(await run(["sh", "-c", "no-such-command"]), 127, "");
        const missing = await plain(staged.uuid, ["no-such-command"]);
        assertRun(missing, 127, "");
        assert.match(missing.stderr, /Command not found in rootfs: "no-such/);
      });

      const cases = [["TERM", 143], ["KILL", 137], ["INT", 130]] as const;
      if (backend === "proot") {
        await t.step(
          "known proot 5.1 difference: death by signal is exit 255",
          async () => {
            for (const [signal] of cases) {
              const result = await run(["sh", "-c", `kill -${signal} $$`]);
              assertRun(result, 255, "");
              assert.match(result.stderr, /terminated with signal/);
            }
          },
        );
      } else {
        await t.step("death by signal N is 128+N, with no stderr", async () => {
          for (const [signal, code] of cases) {
            const argv = ["sh", "-c", `kill -${signal} $$`];
            const result = await run(argv);
            assertRun(result, code, "");
            assert.equal(commandStderr(result, argv), "", show(result));
          }
        });
      }

      await t.step("argv is passed literally", async () => {
        const args = [
          "two words",
          `it's "quoted"`,
          "$HOME",
          "*",
          "--foo",
          "-n",
          "",
          "a\\nb",
          "`id`",
          "; true",
        ];
        const result = await run(["printf", "%s\\n", ...args]);
        assertRun(result, 0, args.map((a) => `${a}\n`).join(""));
      });

      await t.step(
        "found but not executable is 126, as in shells",
        async () => {
          await Deno.writeTextFile(
            `${staged.rootfs}/bin/not-exec`,
            "#!/bin/sh\n",
            {
              mode: 0o644,
            },
          );
          await Deno.chmod(`${staged.rootfs}/bin/not-exec`, 0o644);
          try {
            for (
              const [argv, message] of [
                [
                  ["/etc"],
                  /"\/etc" \(\/etc inside the rootfs\) is a directory/,
                ],
                [
                  ["not-exec"],
                  /"not-exec" \(\/bin\/not-exec inside the rootfs\) is not executable/,
                ],
              ] as const
            ) {
              const result = await plain(staged.uuid, [...argv]);
              assertRun(result, 126, "");
              assert.match(result.stderr, message);
              assert.equal(
                result.stderr.trim().split("\n").length,
                2,
                show(result),
              );
            }
          } finally {
            await Deno.remove(`${staged.rootfs}/bin/not-exec`);
          }
        },
      );

      await t.step("a -- inside the command is the command's own", async () => {
        // With and without the separating "--" after the UUID.
        for (const separator of [["--"], []]) {
          const echo = await plain(staged.uuid, [
            ...separator,
            "echo",
            "a",
            "--",
            "b",
          ]);
          assertRun(echo, 0, "a -- b\n");
          const sh = await plain(staged.uuid, [
            ...separator,
            "sh",
            "-c",
            'echo "$@"',
            "x",
            "--",
            "y",
          ]);
          assertRun(sh, 0, "-- y\n");
        }
      });

      await t.step("env is exactly PATH, HOME and TERM", async () => {
        // From a host cwd other than "/", which must not show through.
        const prefix = ["env", `--chdir=${staged.store}`];
        const result = await run(["env"], { env: HOST_ENV, prefix });
        assertRun(result, 0);
        const { PWD, ...env } = parseEnv(result.stdout);
        assert.deepEqual(env, {
          PATH: DEFAULT_PATH,
          HOME: "/root",
          TERM: "xterm-test",
        }, show(result));
        // bwrap --chdir and proot -w export PWD; it must be the real cwd.
        assert.ok(PWD === undefined || PWD === "/", `PWD=${PWD}`);
        const bare = await run(["env"]);
        const keys = Object.keys(parseEnv(bare.stdout)).sort();
        assert.deepEqual(keys.filter((k) => k !== "PWD"), ["HOME", "PATH"]);
      });

      await t.step(
        "a host LD_PRELOAD neither stops exec nor gets in",
        async () => {
          // Deno refuses to start a child whose environment holds LD_PRELOAD
          // (without --allow-run for everything), so this fails loudly if the
          // host's environment reaches a launcher.
          const env = { LD_PRELOAD: "/nonexistent.so" };
          const result = await run(["env"], { env });
          assertRun(result, 0);
          const keys = Object.keys(parseEnv(result.stdout)).sort();
          assert.deepEqual(keys.filter((k) => k !== "PWD"), ["HOME", "PATH"]);
        },
      );

      await t.step("cwd is / and uid, gid are 0", async () => {
        assertRun(await run(["pwd"]), 0, "/\n");
        assertRun(await run(["id", "-u"]), 0, "0\n");
        assertRun(await run(["id", "-g"]), 0, "0\n");
      });

      await t.step("no signal starts ignored or blocked", async () => {
        const result = await run(["grep", "^Sig[IB]", "/proc/self/status"]);
        assertRun(result, 0);
        // Only the standard signals: the Deno runtime itself passes on
        // 32 and 33 ignored, on every backend alike.
        for (const line of result.stdout.trim().split("\n")) {
          const mask = BigInt(`0x${line.split(/\s+/)[1]}`) & 0x7fffffffn;
          assert.equal(mask, 0n, `${line}\n${show(result)}`);
        }
      });

      await t.step("no descriptor beyond stdio is inherited", async () => {
        const script =
          'for n in 3 4 5 6 7 8 9; do [ -e "/proc/$$/fd/$n" ] && echo "$n"; done';
        assertRun(await run(["sh", "-c", `${script}; exit 0`]), 0, "");
      });

      await t.step("/proc is mounted", async () => {
        assertRun(await run(["test", "-r", "/proc/self/status"]), 0, "");
        const stat = await run(["cat", "/proc/self/stat"]);
        assertRun(stat, 0);
        assert.match(stat.stdout, /^\d+ \(cat\) R /);
      });

      await t.step("/dev has the standard devices", async () => {
        const script = 'for d; do test -c "/dev/$d" || echo "no /dev/$d"; done';
        assertRun(await run(["sh", "-c", script, "sh", ...DEVICES]), 0, "");
        assertRun(await run(["sh", "-c", "echo x > /dev/null"]), 0, "");
        const zero = await run(["sh", "-c", "head -c 3 /dev/zero | wc -c"]);
        assertRun(zero, 0);
        assert.equal(zero.stdout.trim(), "3");
        const full = await run(["sh", "-c", "echo x > /dev/full"]);
        assert.notEqual(full.code, 0, `writing /dev/full\n${show(full)}`);
      });

      await t.step("/tmp is writable and lands in the rootfs", async () => {
        const name = `conformance-${backend}-${crypto.randomUUID()}`;
        const onDisk = `${staged.rootfs}/tmp/${name}`;
        try {
          assertRun(await run(["sh", "-c", `echo hi > /tmp/${name}`]), 0, "");
          assert.equal(await Deno.readTextFile(onDisk), "hi\n");
        } finally {
          await Deno.remove(onDisk).catch(() => {});
        }
      });

      await t.step("stdin is piped through", async () => {
        const text = "line one\nline two\n\u00e9\u4e2d\n";
        assertRun(await run(["cat"], { stdin: text }), 0, text);
      });

      await t.step("10 MB of stdout arrive intact", async () => {
        const size = 10 * 1024 * 1024;
        const command = `head -c ${size} /dev/zero | tr '\\0' a`;
        const result = await run(["sh", "-c", command]);
        assert.equal(result.code, 0, show(result));
        assert.equal(result.stdout.length, size);
        assert.ok(/^a*$/.test(result.stdout), "stdout is not all 'a'");
      });

      await t.step("a missing rootfs is exit 1", async () => {
        const uuid = crypto.randomUUID();
        const result = await plain(uuid, ["true"]);
        assert.equal(result.code, 1, show(result));
        const path = `${staged.store}/${uuid}`;
        assert.ok(
          result.stderr.includes(`No such UUID rootfs: ${uuid} (${path})`),
          show(result),
        );
      });

      await t.step("an invalid UUID is exit 2", async () => {
        const result = await plain("../etc", ["true"]);
        assert.equal(result.code, 2, show(result));
        assert.match(result.stderr, /Invalid UUID "\.\.\/etc"/);
      });
    } finally {
      await staged.cleanup();
    }
  });
}
