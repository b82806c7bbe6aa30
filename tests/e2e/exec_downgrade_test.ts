/**
 * No image can make exec use a weaker backend: an image whose `/proc` is a
 * file, or whose WorkingDir lies under `/proc`, used to make bubblewrap fail
 * while setting up, and exec then ran the command under proot, where the
 * guest sees the host's `/proc`. Now exec refuses such an image before any
 * backend starts (exit 1, one line), and a bad `--bind` target is a usage
 * error (exit 2), never a fall-back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeMetadata } from "../../src/store/metadata.ts";
import type { ImageConfig } from "../../src/image/types.ts";
import { type CliResult, runPolythene } from "../helpers/cli.ts";
import { show } from "../helpers/exec_shapes.ts";
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

function exec(staged: StagedStore, options: string[], argv: string[]) {
  return runPolythene([
    "exec",
    "--store",
    staged.store,
    ...options,
    staged.uuid,
    "--",
    ...argv,
  ]);
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
