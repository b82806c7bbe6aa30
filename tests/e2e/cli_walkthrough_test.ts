/**
 * Findings of a newcomer walkthrough, each through the real CLI: the
 * behaviour the guide promises, checked as a user would check it.
 */

import assert from "node:assert/strict";
import { makeBusyboxRootfs } from "../../scripts/busybox_rootfs.ts";
import { runPolythene } from "../helpers/cli.ts";
import { makeBusyboxStore } from "../helpers/fixtures.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("prune --all --older-than 1h removes only what is older", async () => {
  const staged = await makeBusyboxStore();
  try {
    const fresh = await makeBusyboxRootfs(staged.store);
    const old = staged.uuid;
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(`${staged.store}/${old}`, twoHoursAgo, twoHoursAgo);
    const result = await runPolythene([
      "prune",
      "--all",
      "--older-than",
      "1h",
      "--store",
      staged.store,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await exists(`${staged.store}/${old}`), false, "old entry");
    assert.equal(await exists(`${staged.store}/${fresh}`), true, "fresh entry");
  } finally {
    await staged.cleanup();
  }
});

Deno.test("global options may come before the command", async () => {
  const staged = await makeBusyboxStore();
  try {
    const result = await runPolythene(["-s", staged.store, "list", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as {
      store: string;
      entries: { uuid: string }[];
    };
    assert.equal(listed.store, staged.store);
    assert.deepEqual(listed.entries.map((e) => e.uuid), [staged.uuid]);
  } finally {
    await staged.cleanup();
  }
});

Deno.test("an option after the UUID is refused with the rule", async () => {
  const staged = await makeBusyboxStore();
  try {
    const result = await runPolythene([
      "exec",
      "-s",
      staged.store,
      staged.uuid,
      "-w",
      "/tmp",
      "pwd",
    ]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /^polythene: Invalid command "-w": polythene's options go before the UUID/,
    );
  } finally {
    await staged.cleanup();
  }
});

Deno.test("pull --tls-verify false is refused with the = form to use", async () => {
  const result = await runPolythene([
    "pull",
    "--store",
    "/nonexistent-polythene-store",
    "--tls-verify",
    "false",
    "localhost:5000/img",
  ]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^polythene: Option --tls-verify is a flag: write --tls-verify=false, with "="/,
  );
});

Deno.test("a symlinked entry is named as a symlink by exec, inspect and rm", async () => {
  const staged = await makeBusyboxStore();
  const link = "0b7e4c2a-6f0d-4e8a-9c55-3d2f1a9e8b71";
  try {
    await Deno.symlink(staged.rootfs, `${staged.store}/${link}`);
    for (
      const args of [
        ["exec", "-s", staged.store, link, "true"],
        ["inspect", "-s", staged.store, link],
        ["rm", "-s", staged.store, link],
      ]
    ) {
      const result = await runPolythene(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.match(
        result.stderr,
        new RegExp(
          `^polythene: Not a UUID rootfs: ${link} \\(.* is a symlink;`,
        ),
        args.join(" "),
      );
      assert.doesNotMatch(result.stderr, /polythene pull/, args.join(" "));
    }
    assert.equal(await exists(staged.rootfs), true, "the link's target stays");
  } finally {
    await staged.cleanup();
  }
});

Deno.test("pull of a bare path suggests oci:PATH", async () => {
  const result = await runPolythene([
    "pull",
    "--store",
    "/nonexistent-polythene-store",
    "/tmp/busybox-oci",
  ]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^polythene: Invalid image reference "\/tmp\/busybox-oci": it is a path, not a registry reference: write oci:\/tmp\/busybox-oci/,
  );
});

/** Lines of `/proc/locks` about the file whose inode is `ino`. */
async function locksOn(ino: number): Promise<string[]> {
  const text = await Deno.readTextFile("/proc/locks");
  return text.split("\n").filter((line) => line.includes(`:${ino} `));
}

/** Polls `check` every 20 ms until it holds (at most 30 s). */
async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Gave up waiting for ${what}`);
}

Deno.test("a waiting rm is not starved by new execs", async () => {
  const staged = await makeBusyboxStore();
  try {
    const a = runPolythene([
      "exec",
      "-s",
      staged.store,
      staged.uuid,
      "sh",
      "-c",
      "touch /a-running; while [ ! -e /release ]; do sleep 0.05; done",
    ]);
    await until(() => exists(`${staged.rootfs}/a-running`), "exec A to run");
    let rmDone = false;
    const rm = runPolythene(["rm", "-s", staged.store, staged.uuid]).finally(
      () => rmDone = true,
    );
    const gate = `${staged.store}/.polythene/gates/${staged.uuid}`;
    // rm holds the gate while it waits for A.
    await until(async () => {
      const ino = (await Deno.stat(gate).catch(() => undefined))?.ino;
      return ino != null &&
        (await locksOn(ino)).some((l) => /FLOCK\s+ADVISORY\s+WRITE/.test(l));
    }, "rm to hold the gate");
    assert.equal(rmDone, false, "rm waits for exec A");
    let bDone = false;
    const b = runPolythene([
      "exec",
      "-s",
      staged.store,
      staged.uuid,
      "sh",
      "-c",
      "touch /b-ran",
    ]).finally(() => bDone = true);
    // B queues behind the waiting rm: it shows as a blocked waiter.
    const ino = (await Deno.stat(gate)).ino!;
    await until(
      async () => bDone || (await locksOn(ino)).some((l) => l.includes("->")),
      "exec B to queue or finish",
    );
    assert.equal(await exists(`${staged.rootfs}/b-ran`), false, "B ran");
    await Deno.writeTextFile(`${staged.rootfs}/release`, "");
    const [ra, rr, rb] = await Promise.all([a, rm, b]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rr.code, 0, rr.stderr);
    assert.equal(rb.code, 1, `exec B: ${rb.stdout}${rb.stderr}`);
    assert.match(rb.stderr, /^polythene: No such UUID rootfs/);
    assert.equal(await exists(staged.rootfs), false);
  } finally {
    await staged.cleanup();
  }
});
