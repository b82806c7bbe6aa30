/**
 * The store commands as the unprivileged user `polythene-test`, on a store
 * that user owns: list, clone, exec --ephemeral, rm and prune all work, and
 * nothing is left behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene, sourceReadableBy } from "../helpers/cli.ts";
import {
  makeBusyboxStore,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";

const USER = testUser();
const MISSING = Deno.uid() !== 0
  ? "running as root (to act as polythene-test)"
  : USER === undefined
  ? "the user polythene-test (scripts/setup.sh makes it)"
  : undefined;

testNeeding(
  MISSING,
  "store: an unprivileged user lists, clones, runs ephemeral, removes and prunes",
  async () => {
    const user = USER!;
    const staged = await makeBusyboxStore(user);
    const source = await sourceReadableBy(user);
    const as = (args: string[]) =>
      runPolythene(args, { user, source: source.dir });
    try {
      const listed = await as(["list", "--json", "-s", staged.store]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        JSON.parse(listed.stdout).entries.map((e: { uuid: string }) => e.uuid),
        [staged.uuid],
      );

      const cloned = await as(["clone", "-s", staged.store, staged.uuid]);
      assert.equal(cloned.code, 0, cloned.stderr);
      const clone = cloned.stdout.trim();
      const info = await Deno.stat(`${staged.store}/${clone}`);
      assert.equal(info.uid, user.uid, "the clone belongs to the user");

      const ran = await as([
        "exec",
        "--ephemeral",
        "-s",
        staged.store,
        clone,
        "--",
        "sh",
        "-c",
        "echo changed > /etc/marker && cat /etc/marker",
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, "changed\n");
      await assert.rejects(
        Deno.stat(`${staged.store}/${clone}/etc/marker`),
        Deno.errors.NotFound,
        "the ephemeral run left the clone unchanged",
      );

      const removed = await as(["rm", "-s", staged.store, clone]);
      assert.equal(removed.code, 0, removed.stderr);
      await assert.rejects(Deno.stat(`${staged.store}/${clone}`));

      const pruned = await as(["prune", "--all", "--json", "-s", staged.store]);
      assert.equal(pruned.code, 0, pruned.stderr);
      const entries = [];
      for await (const e of Deno.readDir(staged.store)) {
        if (!e.name.startsWith(".")) entries.push(e.name);
      }
      assert.deepEqual(entries, [], "prune --all removed the base too");
    } finally {
      await source.cleanup();
      await staged.cleanup();
    }
  },
);
