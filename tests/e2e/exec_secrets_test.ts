/**
 * Secrets given with `--env KEY` (the value from the caller's environment)
 * and `--env-file` never appear in any process's command line, which every
 * local user can read in `/proc/PID/cmdline`, on any backend, nor in the
 * `--verbose` log. The command waits while the test scans `/proc`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BACKEND_NAMES } from "../../src/backends/names.ts";
import { runPolythene } from "../helpers/cli.ts";
import { BACKEND_TOOLS, show, withPathOf } from "../helpers/exec_shapes.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  testNeeding,
} from "../helpers/fixtures.ts";

/** Every process's command line but `skip`'s, NUL bytes as spaces. */
function commandLines(skip: number): string[] {
  const lines: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === skip) continue;
    try {
      const raw = Deno.readFileSync(`/proc/${entry.name}/cmdline`);
      lines.push(new TextDecoder().decode(raw).replaceAll("\0", " "));
    } catch {
      // Gone meanwhile.
    }
  }
  return lines;
}

async function waitFor(path: string, done: Promise<unknown>): Promise<void> {
  let finished = false;
  done.finally(() => finished = true);
  while (!finished) {
    try {
      await Deno.lstat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

for (const backend of BACKEND_NAMES) {
  testNeeding(
    backendMissingAsRoot(backend),
    `exec: --env KEY and --env-file secrets stay out of every cmdline and the log: ${backend}`,
    async () => {
      const staged = await makeBusyboxStore();
      const fromEnv = `env-secret-${crypto.randomUUID()}`;
      const fromFile = `file-secret-${crypto.randomUUID()}`;
      const envFile = `${staged.store}/../secrets.env`;
      try {
        await Deno.writeTextFile(envFile, `FILE_TOKEN=${fromFile}\n`, {
          mode: 0o600,
        });
        const tmp = `${staged.rootfs}/tmp`;
        await withPathOf([...BACKEND_TOOLS[backend], "sh"], async (path) => {
          let pid = -1;
          const run = runPolythene([
            "exec",
            "--verbose",
            "--store",
            staged.store,
            "--isolation",
            backend,
            "--env",
            "CI_TOKEN",
            "--env-file",
            envFile,
            // Also one that proot and chroot pass renamed.
            "--env",
            "LD_BIND_NOW=1",
            staged.uuid,
            "--",
            "sh",
            "-c",
            'echo "$CI_TOKEN|$FILE_TOKEN|$LD_BIND_NOW" > /tmp/seen; : > /tmp/ready; ' +
            "while [ ! -e /tmp/go ]; do sleep 1; done",
          ], {
            path,
            env: { CI_TOKEN: fromEnv },
            killAfterMs: 60_000,
            onStart: (p) => pid = p,
          });
          await waitFor(`${tmp}/ready`, run);
          const lines = commandLines(pid);
          await Deno.writeTextFile(`${tmp}/go`, "");
          const result = await run;
          assert.equal(result.code, 0, show(result));
          assert.match(result.stderr, new RegExp(`using backend ${backend}`));
          assert.equal(
            await Deno.readTextFile(`${tmp}/seen`),
            `${fromEnv}|${fromFile}|1\n`,
            "the command saw the values",
          );
          assert.ok(lines.length > 0);
          for (const secret of [fromEnv, fromFile]) {
            const leak = lines.find((l) => l.includes(secret));
            assert.equal(leak, undefined, `a cmdline holds a secret: ${leak}`);
            assert.ok(!result.stderr.includes(secret), show(result));
          }
          assert.match(result.stderr, /CI_TOKEN=<redacted>/);
        });
      } finally {
        await Deno.remove(envFile).catch(() => {});
        await staged.cleanup();
      }
    },
  );
}
