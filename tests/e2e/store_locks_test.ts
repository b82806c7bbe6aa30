/**
 * `rm` and `prune` against a running `exec`, observed from both sides: the
 * command reports that it runs and waits on a FIFO; meanwhile `rm` must be
 * seen blocked on the entry's lock in `/proc/locks` (not merely slow), and
 * `prune` must report the entry busy; the rootfs stays whole, and once let
 * go the command still sees its own files.
 *
 * Needs root and a working backend (exec's own checks say which); the
 * default backend order runs here.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CliResult, runPolythene } from "../helpers/cli.ts";
import { makeBusyboxStore, type StagedStore } from "../helpers/fixtures.ts";
import { flocksOn, Handshake, untilOrSettled } from "../helpers/locks.ts";
import { explain } from "../helpers/pull_checks.ts";

/** What the command prints once let go: its view of `/` and busybox. */
const VIEW = "ls /; /bin/busybox true && echo busybox-ok";

/** Top-level names of the rootfs, sorted, as the host sees them. */
async function topNames(rootfs: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(rootfs)) names.push(entry.name);
  return names.sort();
}

/** A running exec whose command waits for `go()`. */
async function startWaitingExec(staged: StagedStore) {
  const handshake = new Handshake(staged.rootfs);
  await handshake.make();
  let pid = 0;
  const run = runPolythene([
    "exec",
    "-s",
    staged.store,
    staged.uuid,
    "--",
    "sh",
    "-c",
    Handshake.SCRIPT + VIEW,
  ], { onStart: (p) => pid = p, killAfterMs: 90_000 });
  run.catch(() => {});
  await handshake.ready(run);
  return {
    run,
    handshake,
    /** Stops the exec if a failed check left it waiting. */
    stop() {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* already gone */ }
    },
  };
}

/** Asserts the command, let go, saw the whole rootfs and exited 0. */
function assertWholeView(result: CliResult, names: string[]) {
  assert.equal(result.code, 0, explain(result));
  const lines = result.stdout.trim().split("\n");
  assert.deepEqual(lines.slice(0, -1).sort(), names, explain(result));
  assert.equal(lines.at(-1), "busybox-ok", explain(result));
}

Deno.test("store locks: rm waits for a running exec; --no-wait fails clearly", async () => {
  const staged = await makeBusyboxStore();
  let exec: Awaited<ReturnType<typeof startWaitingExec>> | undefined;
  try {
    exec = await startWaitingExec(staged);
    const names = await topNames(staged.rootfs);
    const ino = (await Deno.stat(staged.rootfs)).ino!;
    assert.ok(
      (await flocksOn(ino)).some((l) => l.mode === "READ" && !l.waiting),
      "exec holds a shared lock on the entry while its command runs",
    );

    const busy = await runPolythene(
      ["rm", "--no-wait", "-s", staged.store, staged.uuid],
    );
    assert.equal(busy.code, 1, explain(busy));
    assert.match(
      busy.stderr,
      /^polythene: Entry \S+ is in use by another process: not removing it\n/,
    );

    const rm = runPolythene(["rm", "-s", staged.store, staged.uuid]);
    const seen = await untilOrSettled(
      async () =>
        (await flocksOn(ino)).some((l) => l.mode === "WRITE" && l.waiting),
      rm,
    );
    assert.equal(
      seen.kind,
      "held",
      seen.kind === "settled"
        ? `rm returned while the command ran: ${explain(seen.value)}`
        : "",
    );
    assert.deepEqual(await topNames(staged.rootfs), names, "rootfs is whole");
    assert.ok((await Deno.stat(`${staged.rootfs}/bin/busybox`)).isFile);

    await exec.handshake.go();
    assertWholeView(await exec.run, names);
    const removed = await rm;
    assert.equal(removed.code, 0, explain(removed));
    await assert.rejects(Deno.lstat(staged.rootfs), Deno.errors.NotFound);
  } finally {
    exec?.stop();
    await exec?.run;
    await staged.cleanup();
  }
});

Deno.test("store locks: prune keeps an entry in use, dry run or not", async () => {
  const staged = await makeBusyboxStore();
  let exec: Awaited<ReturnType<typeof startWaitingExec>> | undefined;
  try {
    exec = await startWaitingExec(staged);
    const names = await topNames(staged.rootfs);
    for (const dry of [["--dry-run"], []]) {
      const result = await runPolythene(
        ["prune", "--all", ...dry, "--json", "-s", staged.store],
      );
      assert.equal(result.code, 0, explain(result));
      const report = JSON.parse(result.stdout);
      assert.deepEqual(report.removed, [], explain(result));
      assert.deepEqual(report.busy, [staged.uuid], explain(result));
      assert.deepEqual(await topNames(staged.rootfs), names);
    }
    await exec.handshake.go();
    assertWholeView(await exec.run, names);
    assert.deepEqual(await topNames(staged.rootfs), names);
  } finally {
    exec?.stop();
    await exec?.run;
    await staged.cleanup();
  }
});
