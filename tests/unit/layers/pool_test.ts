import assert from "node:assert/strict";
import { WritePool } from "../../../src/image/layers/_pool.ts";
import { Node } from "../../../src/image/layers/_tree.ts";

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { task: () => done, open, fail };
}

const node = (name: string) => new Node("file", name, undefined, `/r/${name}`);

Deno.test("WritePool: at most `size` writes in flight", async () => {
  const pool = new WritePool(2);
  const [a, b, c] = [gate(), gate(), gate()];
  await pool.add(node("a"), a.task);
  await pool.add(node("b"), b.task);
  let third = false;
  const queued = pool.add(node("c"), c.task).then(() => third = true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(third, false, "the third waits for a slot");
  a.open();
  await queued;
  assert.equal(third, true);
  b.open();
  c.open();
  await pool.drain();
});

Deno.test("WritePool: wait() is for one node's write, drain() for all", async () => {
  const pool = new WritePool(4);
  const target = node("target");
  const [t, other] = [gate(), gate()];
  await pool.add(target, t.task);
  await pool.add(node("other"), other.task);
  let waited = false;
  const waiting = pool.wait(target).then(() => waited = true);
  let drained = false;
  const draining = pool.drain().then(() => drained = true);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(waited, false, "the link waits for its target");
  t.open();
  await waiting;
  assert.equal(drained, false, "drain waits for every write");
  other.open();
  await draining;
  assert.equal(drained, true);
  await pool.wait(node("never queued"));
});

Deno.test("WritePool: a failed write is thrown by the next call", async () => {
  const pool = new WritePool(4);
  const g = gate();
  await pool.add(node("x"), g.task);
  g.fail(new Error("disk full"));
  await assert.rejects(pool.drain(), /disk full/);
  assert.throws(() => pool.check(), /disk full/);
  await assert.rejects(pool.add(node("y"), () => Promise.resolve()), /disk/);
  await pool.settle();
});
