/**
 * No image can make exec use a weaker backend: an image whose `/proc` is a
 * file, or whose WorkingDir lies under `/proc`, used to make bubblewrap fail
 * while setting up, and exec then ran the command under proot, where the
 * guest sees the host's `/proc`. Now exec refuses such an image before any
 * backend starts (exit 1, one line), and a bad `--bind` target is a usage
 * error (exit 2), never a fall-back. A backend that fails while setting up
 * the real run is an error; a fall-back because one is missing is said on
 * stderr; and the isolation floor bounds how weak a backend may be.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeMetadata } from "../../src/store/metadata.ts";
import type { ImageConfig } from "../../src/image/types.ts";
import { type CliResult, hostProgram, runPolythene } from "../helpers/cli.ts";
import { programsNeeded } from "../../src/backends/backend.ts";
import { bubblewrap } from "../../src/backends/bubblewrap.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";
import { show, withPathOf } from "../helpers/exec_shapes.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  type StagedStore,
  testNeeding,
} from "../helpers/fixtures.ts";

const MISSING = backendMissingAsRoot("bubblewrap") ??
  backendMissingAsRoot("proot");

/** The host's init command line, as the guest would print it. */
function hostInit(): string {
  return Deno.readTextFileSync("/proc/1/cmdline").split("\0")[0]!;
}

async function withConfig(
  staged: StagedStore,
  config: ImageConfig["config"],
): Promise<void> {
  await writeMetadata(staged.store, {
    schema: 1,
    uuid: staged.uuid,
    reference: "hostile-test",
    puller: "native",
    created: new Date().toISOString(),
    size: 0,
    config,
  });
}

/**
 * Runs exec on a hostile entry. As root it runs in a jail: the host is
 * read-only but for the test's own directory, so a regression that lets the
 * image redirect a mount or a write fails the test instead of touching the
 * host.
 */
function exec(staged: StagedStore, options: string[], argv: string[]) {
  const dir = staged.store.slice(0, staged.store.lastIndexOf("/"));
  return runPolythene([
    "exec",
    "--store",
    staged.store,
    ...options,
    staged.uuid,
    "--",
    ...argv,
  ], canJail() ? { prefix: jailPrefix([dir]), env: { TMPDIR: dir } } : {});
}

/** Asserts exit `code`, one stderr line matching `line`, and nothing ran. */
function assertRefusedBeforeAnyBackend(
  result: CliResult,
  code: number,
  line: RegExp,
): void {
  assert.equal(result.code, code, show(result));
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr\n${show(result)}`);
  assert.match(lines[0]!, line, show(result));
  assert.doesNotMatch(result.stderr, /\busing |proot/, show(result));
  assert.ok(!result.stdout.includes(hostInit()), show(result));
  assert.equal(result.stdout, "", show(result));
}

testNeeding(
  MISSING,
  "exec: an image whose /proc is a regular file is refused, never run under proot",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await Deno.remove(`${staged.rootfs}/proc`);
      await Deno.writeTextFile(`${staged.rootfs}/proc`, "not a directory\n");
      for (const options of [[], ["--verbose"]]) {
        const result = await exec(staged, options, ["cat", "/proc/1/cmdline"]);
        if (options.length === 0) {
          assertRefusedBeforeAnyBackend(result, 1, /\/proc is not a directory/);
        } else {
          assert.equal(result.code, 1, show(result));
          assert.doesNotMatch(result.stderr, /using backend/, show(result));
        }
      }
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: an image whose /dev is a symlink is refused",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await Deno.remove(`${staged.rootfs}/dev`);
      await Deno.symlink("/etc", `${staged.rootfs}/dev`);
      const result = await exec(staged, [], ["cat", "/proc/1/cmdline"]);
      assertRefusedBeforeAnyBackend(result, 1, /\/dev is a symlink/);
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: a WorkingDir under /proc (/proc/self/fd/3) is refused, never run under proot",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await withConfig(staged, { WorkingDir: "/proc/self/fd/3" });
      const result = await exec(staged, [], ["cat", "/proc/1/cmdline"]);
      assertRefusedBeforeAnyBackend(
        result,
        1,
        /WorkingDir "\/proc\/self\/fd\/3".*under \/proc/,
      );
      // Nothing was made under the rootfs's /proc.
      assert.deepEqual([...Deno.readDirSync(`${staged.rootfs}/proc`)], []);
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: a WorkingDir that is a symlink into /proc is refused",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await Deno.symlink("/proc/self/cwd", `${staged.rootfs}/work`);
      await withConfig(staged, { WorkingDir: "/work" });
      const result = await exec(staged, [], ["pwd"]);
      assertRefusedBeforeAnyBackend(result, 1, /under \/proc/);
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: a --bind or --workdir under /proc, /dev or /sys is a usage error, never a fall-back",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      for (
        const options of [
          ["--bind", "/etc/hostname:/proc/sys/kernel/hostname"],
          ["--bind", "/tmp:/dev/shm/x"],
          ["--bind", "/tmp:/sys/x"],
          ["--workdir", "/proc/self/fd/3"],
        ]
      ) {
        const result = await exec(staged, options, ["cat", "/proc/1/cmdline"]);
        assert.equal(result.code, 2, show(result));
        assert.match(
          result.stderr,
          /which the sandbox mounts itself/,
          show(result),
        );
        assert.doesNotMatch(result.stderr, /\busing /, show(result));
        assert.equal(result.stdout, "", show(result));
      }
      assert.deepEqual([...Deno.readDirSync(`${staged.rootfs}/proc`)], []);
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: a fall-back because bwrap is missing is said in one stderr line, without --verbose",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await withPathOf(["proot", "sh", "setpriv"], async (path) => {
        const result = await runPolythene(
          ["exec", "--store", staged.store, staged.uuid, "--", "echo", "ran"],
          { path },
        );
        assert.equal(result.code, 0, show(result));
        assert.equal(result.stdout, "ran\n");
        assert.equal(
          result.stderr,
          'polythene: bubblewrap unusable here ("bwrap" not found on PATH); using proot\n',
        );
        // Asked for by name and used: nothing to say.
        const asked = await runPolythene(
          [
            "exec",
            "-s",
            staged.store,
            "-i",
            "proot",
            staged.uuid,
            "--",
            "true",
          ],
          { path },
        );
        assert.equal(asked.code, 0, show(asked));
        assert.equal(asked.stderr, "", show(asked));
      });
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: with the isolation floor at bubblewrap and bwrap missing, exit 126 and nothing runs",
  async () => {
    const staged = await makeBusyboxStore();
    try {
      await withPathOf(
        ["proot", "sh", "unshare", "mount", "setpriv"],
        async (path) => {
          for (
            const [options, env] of [
              [["--isolation-floor", "bubblewrap"], {}],
              [[], { POLYTHENE_ISOLATION_FLOOR: "bubblewrap" }],
            ] as const
          ) {
            const result = await runPolythene([
              "exec",
              "--store",
              staged.store,
              ...options,
              staged.uuid,
              "--",
              "touch",
              "/tmp/ran",
            ], { path, env });
            assert.equal(result.code, 126, show(result));
            assert.match(result.stderr, /isolation floor \(bubblewrap/);
            assert.match(result.stderr, /^ {2}bubblewrap: "bwrap" not found/m);
            assert.doesNotMatch(result.stderr, /using|^ {2}proot/m);
            await assert.rejects(
              Deno.lstat(`${staged.rootfs}/tmp/ran`),
              Deno.errors.NotFound,
            );
          }
          // A floor of proot allows proot.
          const proot = await runPolythene([
            "exec",
            "--store",
            staged.store,
            "--isolation-floor",
            "proot",
            staged.uuid,
            "--",
            "echo",
            "ran",
          ], { path });
          assert.equal(proot.code, 0, show(proot));
          assert.match(proot.stderr, /using proot/);
          // Asking for a backend below the floor is a usage error.
          const below = await runPolythene([
            "exec",
            "--store",
            staged.store,
            "--isolation-floor",
            "bubblewrap",
            "--isolation",
            "proot",
            staged.uuid,
            "--",
            "true",
          ], { path });
          assert.equal(below.code, 2, show(below));
        },
      );
    } finally {
      await staged.cleanup();
    }
  },
);

testNeeding(
  MISSING,
  "exec: bwrap failing while setting up the real run is an error naming it, never a fall-back",
  async () => {
    const staged = await makeBusyboxStore();
    const bin = await Deno.makeTempDir({ prefix: "polythene-bwrap-" });
    try {
      // The real bwrap, made to fail while setting up the real run (the
      // one with --json-status-fd): its probe still passes.
      await Deno.writeTextFile(
        `${bin}/bwrap`,
        `#!/bin/sh\ncase " $* " in *" --json-status-fd "*) exec ${
          hostProgram("bwrap")
        } --bind /nonexistent-polythene /x "$@";; esac\nexec ${
          hostProgram("bwrap")
        } "$@"\n`,
      );
      await Deno.chmod(`${bin}/bwrap`, 0o755);
      // Every program bwrap needs as root, but bwrap itself (the stand-in).
      const needed = [
        "proot",
        "setpriv",
        ...programsNeeded(bubblewrap, {
          uid: 0,
          realRoot: true,
        }).filter((p) => p !== "bwrap"),
      ];
      await withPathOf(needed, async (path) => {
        const result = await runPolythene([
          "exec",
          "--store",
          staged.store,
          staged.uuid,
          "--",
          "cat",
          "/proc/1/cmdline",
        ], { path: `${bin}:${path}` });
        assert.equal(result.code, 126, show(result));
        assert.match(
          result.stderr,
          /^polythene: bubblewrap failed while setting up the sandbox \(exit 1\)/m,
        );
        assert.doesNotMatch(result.stderr, /using proot/, show(result));
        assert.ok(!result.stdout.includes(hostInit()), show(result));
        // The probe cache entry is gone: the next run probes again.
        const cache = JSON.parse(
          await Deno.readTextFile(`${staged.store}/.polythene/probes.json`),
        );
        assert.deepEqual(
          Object.keys(cache).filter((k) => k.startsWith("bubblewrap|")),
          [],
        );
      });
    } finally {
      await Deno.remove(bin, { recursive: true });
      await staged.cleanup();
    }
  },
);
