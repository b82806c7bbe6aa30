/**
 * What goes into the committed layer: the difference between the entry and
 * its base. Pure: it compares two trees and returns the members to write.
 *
 * - A path that is new, or differs from the base in type, mode, owner, link
 *   target, device numbers, or (files) size or mtime, is written.
 *   Directories are compared without their size.
 * - A base path missing from the entry becomes a whiteout `.wh.NAME`, once,
 *   at the highest missing directory.
 * - A directory whose base children are all gone, and which has children
 *   again, was replaced wholesale: it is written with an opaque whiteout
 *   `.wh..wh..opq`, and everything under it is written.
 * - Hardlinked files go in together: when one of a group is written, all
 *   are, the first as the file and the rest as links to it.
 *
 * Without a base, every path is written.
 *
 * @module
 */

import type { BaseNode, BaseTree } from "./base_tree.ts";
import type { EntryNode, EntryTree } from "./entry_tree.ts";

const ROOT: BaseNode = {
  type: "dir",
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 0,
};

/** One member of the layer, in writing order. */
export type PlanItem =
  | { kind: "node"; key: string; node: EntryNode }
  | { kind: "link"; key: string; node: EntryNode; target: string }
  | { kind: "whiteout"; key: string }
  | { kind: "opaque"; key: string };

/** Whether the entry's `node` is the base's `base`, unchanged. Pure. */
export function unchanged(node: EntryNode, base: BaseNode | undefined) {
  if (base === undefined || base.type !== node.type) return false;
  // A symlink's own mode means nothing on Linux (always 0777 on disk).
  if (base.mode !== node.mode && node.type !== "symlink") return false;
  if (base.uid !== node.uid || base.gid !== node.gid) return false;
  switch (node.type) {
    case "file":
      return base.size === node.size && base.mtime === node.mtime;
    case "dir":
      return base.mtime === node.mtime;
    case "symlink":
      return base.linkname === node.linkname;
    case "char":
    case "block":
      return base.devmajor === node.devmajor &&
        base.devminor === node.devminor;
    default:
      return true;
  }
}

/**
 * The layer's members for `entry` over `base` (undefined: no base, the
 * whole tree). Parents come before their children. Pure.
 */
export function planLayer(
  entry: EntryTree,
  base: BaseTree | undefined,
  baseChildren: Map<string, string[]> = new Map(),
): PlanItem[] {
  const items: PlanItem[] = [];
  const join = (dir: string, name: string) =>
    dir === "" ? name : `${dir}/${name}`;
  const walk = (key: string, forced: boolean) => {
    const node = entry.nodes.get(key);
    if (node === undefined) return;
    // The root is in every tree, though layers seldom list it.
    const old = key === "" ? base && ROOT : base?.get(key);
    const whole = base === undefined || forced;
    if (key !== "" && (whole || !unchanged(node, old))) {
      items.push({ kind: "node", key, node });
    }
    if (node.type !== "dir") return;
    const names = entry.children.get(key) ?? [];
    let opaque = false;
    if (!whole && old?.type === "dir") {
      const before = baseChildren.get(key) ?? [];
      const present = new Set(names);
      const gone = before.filter((name) => !present.has(name));
      opaque = before.length > 0 && gone.length === before.length &&
        names.length > 0;
      if (opaque) {
        if (key !== "" && unchanged(node, old)) {
          items.push({ kind: "node", key, node });
        }
        items.push({ kind: "opaque", key: join(key, ".wh..wh..opq") });
      } else {
        for (const name of gone.sort()) {
          items.push({ kind: "whiteout", key: join(key, `.wh.${name}`) });
        }
      }
    }
    const under = whole || opaque || old?.type !== "dir";
    for (const name of names) walk(join(key, name), under);
  };
  walk("", false);
  return linkGroups(items, entry);
}

/**
 * Completes hardlink groups: every member of a group with one member in
 * `items` is written, the first (in tree order) as the file, the others as
 * links to it.
 */
function linkGroups(items: PlanItem[], entry: EntryTree): PlanItem[] {
  const wanted = new Set<string>();
  for (const item of items) {
    if (item.kind === "node" && item.node.inode !== undefined) {
      wanted.add(item.node.inode);
    }
  }
  if (wanted.size === 0) return items;
  const written = new Set(items.map((item) => item.key));
  const extra: PlanItem[] = [];
  for (const [key, node] of entry.nodes) {
    if (
      node.inode !== undefined && wanted.has(node.inode) && !written.has(key)
    ) {
      extra.push({ kind: "node", key, node });
    }
  }
  const first = new Map<string, string>();
  const out: PlanItem[] = [];
  for (const item of [...items, ...extra]) {
    const inode = item.kind === "node" ? item.node.inode : undefined;
    if (inode === undefined || item.kind !== "node") {
      out.push(item);
      continue;
    }
    const target = first.get(inode);
    if (target === undefined) {
      first.set(inode, item.key);
      out.push(item);
    } else {
      out.push({ kind: "link", key: item.key, node: item.node, target });
    }
  }
  return out;
}
