import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { stackKey } from "../../../src/store/layer_stacks.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const C = `sha256:${"c".repeat(64)}`;

Deno.test("stackKey: the OCI ChainID of the diff_ids, by owner mode", async () => {
  const ab = createHash("sha256").update(`${A} ${B}`).digest("hex");
  const abc = createHash("sha256").update(`sha256:${ab} ${C}`).digest("hex");
  assert.equal(await stackKey([A], true), `root-${"a".repeat(64)}`);
  assert.equal(await stackKey([A, B], true), `root-${ab}`);
  assert.equal(await stackKey([A, B, C], false), `user-${abc}`);
  assert.notEqual(await stackKey([B, A], true), `root-${ab}`, "order counts");
});

Deno.test("stackKey: no key for an empty stack or a foreign digest", async () => {
  assert.equal(await stackKey([], true), undefined);
  assert.equal(
    await stackKey([A, `sha512:${"a".repeat(128)}`], true),
    undefined,
  );
  assert.equal(await stackKey(["sha256:../../x"], true), undefined);
});
