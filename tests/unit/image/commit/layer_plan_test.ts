import assert from "node:assert/strict";
import {
  applyLayer,
  type BaseTree,
  childrenOf,
} from "../../../../src/image/commit/base_tree.ts";
import type {
  EntryNode,
  EntryTree,
} from "../../../../src/image/commit/entry_tree.ts";
import { planLayer } from "../../../../src/image/commit/layer_plan.ts";
import type { TarHeader } from "../../../../src/image/commit/tar_format.ts";

function h(name: string, extra: Partial<TarHeader> = {}): TarHeader {
  return {
    name,
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 1,
    mtime: 100,
    ...extra,
  };
}
const dir = (name: string) => h(name, { type: "dir", mode: 0o755, size: 0 });

/** An entry tree with the same nodes as `base`, changed by `edit`. */
function entryFrom(
  base: BaseTree,
  edit: (nodes: Map<string, EntryNode>) => void,
) {
  const nodes = new Map<string, EntryNode>([["", {
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1,
  }]]);
  for (const [key, node] of base) nodes.set(key, { ...node });
  edit(nodes);
  const children = new Map<string, string[]>();
  for (const [key, node] of nodes) {
    if (node.type === "dir") children.set(key, []);
    if (key === "") continue;
    const slash = key.lastIndexOf("/");
    children.get(slash < 0 ? "" : key.slice(0, slash))?.push(
      key.slice(slash + 1),
    );
  }
  for (const list of children.values()) list.sort();
  return { nodes, children, sockets: [] } satisfies EntryTree;
}

function base(): BaseTree {
  const tree: BaseTree = new Map();
  applyLayer(tree, [
    dir("etc/"),
    h("etc/keep"),
    h("etc/gone"),
    dir("data"),
    h("data/a"),
    h("data/b"),
    h("swap"),
    dir("swapdir"),
    h("swapdir/x"),
    dir("old"),
    h("old/deep"),
  ]);
  return tree;
}

function plan(edit: (nodes: Map<string, EntryNode>) => void): string[] {
  const tree = base();
  return planLayer(entryFrom(tree, edit), tree, childrenOf(tree)).map((item) =>
    item.kind === "link" ? `${item.key} => ${item.target}` : item.key
  );
}

const file = (extra: Partial<EntryNode> = {}): EntryNode => ({
  type: "file",
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 1,
  mtime: 100,
  ...extra,
});

Deno.test("planLayer: an unchanged entry makes an empty layer", () => {
  assert.deepEqual(plan(() => {}), []);
});

Deno.test("planLayer: a deleted file is a whiteout, a deleted tree one whiteout", () => {
  assert.deepEqual(
    plan((n) => {
      n.delete("etc/gone");
      n.delete("old");
      n.delete("old/deep");
    }),
    [".wh.old", "etc/.wh.gone"],
  );
});

Deno.test("planLayer: changed size, mtime, mode or owner is written", () => {
  assert.deepEqual(
    plan((n) => {
      n.set("etc/keep", file({ mtime: 101 }));
      n.set("data/a", file({ mode: 0o600 }));
      n.set("data/b", file({ uid: 7 }));
      n.set("swap", file({ size: 2 }));
    }),
    ["data/a", "data/b", "etc/keep", "swap"],
  );
});

Deno.test("planLayer: a directory emptied and refilled is opaque", () => {
  assert.deepEqual(
    plan((n) => {
      n.delete("data/a");
      n.delete("data/b");
      n.set("data/c", file());
    }),
    ["data", "data/.wh..wh..opq", "data/c"],
  );
});

Deno.test("planLayer: a directory only emptied gets whiteouts", () => {
  assert.deepEqual(
    plan((n) => {
      n.delete("data/a");
      n.delete("data/b");
    }),
    ["data/.wh.a", "data/.wh.b"],
  );
});

Deno.test("planLayer: a file replaced by a directory and back", () => {
  assert.deepEqual(
    plan((n) => {
      n.set("swap", { ...file(), type: "dir", mode: 0o755, size: 0 });
      n.set("swap/inner", file());
      n.delete("swapdir/x");
      n.set("swapdir", file());
    }),
    ["swap", "swap/inner", "swapdir"],
  );
});

Deno.test("planLayer: hardlinked files go in together, the rest as links", () => {
  assert.deepEqual(
    plan((n) => {
      n.set("data/a", file({ inode: "1:9", mtime: 5 }));
      n.set("etc/keep", file({ inode: "1:9", mtime: 5 }));
    }),
    ["data/a", "etc/keep => data/a"],
  );
  // An unchanged member of the group goes in too.
  assert.deepEqual(
    plan((n) => {
      n.set("data/a", file({ inode: "1:9" }));
      n.set("data/n", file({ inode: "1:9" }));
    }),
    ["data/n", "data/a => data/n"],
  );
});

Deno.test("planLayer without a base writes every path", () => {
  const tree = base();
  const entry = entryFrom(tree, () => {});
  assert.equal(planLayer(entry, undefined).length, tree.size);
});

Deno.test("applyLayer: whiteouts and opaque markers hide only lower layers", () => {
  const tree = base();
  applyLayer(tree, [
    h("etc/.wh.gone"),
    h("data/new"),
    h("data/.wh..wh..opq"),
    h(".wh.old"),
    h("swapdir"),
    h("link", { type: "hardlink", linkname: "etc/keep" }),
  ]);
  assert.deepEqual([...tree.keys()].sort(), [
    "data",
    "data/new",
    "etc",
    "etc/keep",
    "link",
    "swap",
    "swapdir",
  ]);
  assert.equal(tree.get("swapdir")?.type, "file");
  assert.equal(tree.get("link")?.type, "file");
});
