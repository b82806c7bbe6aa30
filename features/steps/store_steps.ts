/**
 * Steps for the store's clean-up workflow: clones with a given age, and
 * what the store holds afterwards.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { Given, Then } from "@cucumber/cucumber";
import { runPolythene } from "../../tests/helpers/cli.ts";
import type { PolytheneWorld } from "./world.ts";

async function storeEntries(store: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(store)) {
    if (!entry.name.startsWith(".")) names.push(entry.name);
  }
  return names.sort();
}

Given<PolytheneWorld>(
  "a clone of the busybox entry last modified {int} days ago",
  async function (days: number) {
    const staged = this.staged!;
    const clone = await runPolythene([
      "clone",
      "--store",
      staged.store,
      staged.uuid,
    ]);
    assert.equal(clone.code, 0, clone.stderr);
    const when = new Date(Date.now() - days * 86_400_000);
    await Deno.utime(`${staged.store}/${clone.stdout.trim()}`, when, when);
  },
);

Then<PolytheneWorld>(
  "the store holds only the busybox entry",
  async function () {
    const staged = this.staged!;
    assert.deepEqual(await storeEntries(staged.store), [staged.uuid]);
  },
);

Then<PolytheneWorld>(
  "the store holds {int} entries",
  async function (count: number) {
    assert.equal((await storeEntries(this.staged!.store)).length, count);
  },
);

Then<PolytheneWorld>(
  "the busybox entry has no {string}",
  async function (path: string) {
    const exists = await Deno.lstat(`${this.staged!.rootfs}${path}`).then(
      () => true,
      () => false,
    );
    assert.equal(exists, false, `${path} is not in the base entry`);
  },
);
