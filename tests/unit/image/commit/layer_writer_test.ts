import assert from "node:assert/strict";
import type { EntryNode } from "../../../../src/image/commit/entry_tree.ts";
import type { PlanItem } from "../../../../src/image/commit/layer_plan.ts";
import {
  contentBytes,
  layerTar,
} from "../../../../src/image/commit/layer_writer.ts";
import type { ProgressReporter } from "../../../../src/progress.ts";

function node(more: Partial<EntryNode>): EntryNode {
  return {
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    ...more,
  };
}

Deno.test("the layer tar tells progress the content read and members written", async () => {
  const root = await Deno.makeTempDir({ prefix: "polythene-layer-" });
  try {
    await Deno.mkdir(`${root}/etc`);
    await Deno.writeFile(`${root}/etc/big`, new Uint8Array(300 * 1024).fill(7));
    await Deno.writeTextFile(`${root}/etc/small`, "hi\n");
    const plan: PlanItem[] = [
      { kind: "node", key: "etc", node: node({ type: "dir", mode: 0o755 }) },
      { kind: "node", key: "etc/big", node: node({ size: 300 * 1024 }) },
      { kind: "node", key: "etc/small", node: node({ size: 3 }) },
      { kind: "whiteout", key: "etc/.wh.gone" },
    ];
    assert.equal(contentBytes(plan), 300 * 1024 + 3);
    const advanced: number[] = [];
    const written: [number, number][] = [];
    const progress: ProgressReporter = {
      start() {},
      advance: (bytes) => advanced.push(bytes),
      written: (entries, bytes) => written.push([entries, bytes]),
      end() {},
    };
    const tar = await new Response(layerTar(root, plan, progress)).bytes();
    assert.ok(tar.length > 300 * 1024);
    // The big body in two reads (256 KiB each at most), then the small one.
    assert.deepEqual(advanced, [256 * 1024, 300 * 1024, 300 * 1024 + 3]);
    assert.deepEqual(written, [
      [1, 0],
      [2, 300 * 1024],
      [3, 300 * 1024 + 3],
      [4, 300 * 1024 + 3],
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
