/**
 * The base image's unpacked state, rebuilt from its layers' tar headers
 * (never their file contents): path to type, mode, owner, size, mtime and
 * link target, after every layer's whiteouts and replacements, as the
 * extraction applied them. Commit compares the entry against it.
 *
 * @module
 */

import type { BlobCache } from "../../store/blob_cache.ts";
import { decompressStream } from "../layers/decompress.ts";
import type { TarHeader, TreeNode } from "./tar_format.ts";
import { readTarHeaders } from "./tar_headers.ts";

/** One path of the base image. */
export type BaseNode = TreeNode;

/** Path (`etc/passwd`, no leading `/`) to its node. */
export type BaseTree = Map<string, BaseNode>;

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** A member name as a tree key: no `./`, no leading or trailing `/`. Pure. */
export function treeKey(name: string): string {
  return name.split("/").filter((p) => p !== "" && p !== ".").join("/");
}

/**
 * Applies one layer's headers to `tree`, as extraction does: whiteouts and
 * opaque markers remove what lower layers had (never what this layer
 * added), a non-directory replaces a directory with all under it, and a
 * hardlink takes its target's attributes. Pure but for mutating `tree`.
 */
export function applyLayer(
  tree: BaseTree,
  headers: Iterable<TarHeader>,
): void {
  const added = new Set<string>();
  for (const header of headers) {
    const key = treeKey(header.name);
    if (key === "") continue;
    const slash = key.lastIndexOf("/");
    const dir = key.slice(0, Math.max(slash, 0));
    const base = key.slice(slash + 1);
    if (base === OPAQUE) {
      removeUnder(tree, dir, added);
      continue;
    }
    if (base.startsWith(WHITEOUT)) {
      const target = (dir === "" ? "" : `${dir}/`) +
        base.slice(WHITEOUT.length);
      tree.delete(target);
      removeUnder(tree, target, added);
      continue;
    }
    let node: BaseNode | undefined;
    if (header.type === "hardlink") {
      const target = tree.get(treeKey(header.linkname ?? ""));
      if (target === undefined || target.type === "dir") continue;
      node = { ...target };
    } else {
      node = {
        type: header.type,
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        size: header.size,
        mtime: header.mtime,
      };
      if (header.type === "symlink") node.linkname = header.linkname;
      if (header.type === "char" || header.type === "block") {
        node.devmajor = header.devmajor;
        node.devminor = header.devminor;
      }
    }
    const old = tree.get(key);
    if (old?.type === "dir" && node.type !== "dir") removeUnder(tree, key);
    tree.set(key, node);
    added.add(key);
  }
}

/** Removes everything under `dir` (not `dir`), except what is in `keep`. */
function removeUnder(tree: BaseTree, dir: string, keep?: Set<string>) {
  const prefix = dir === "" ? "" : `${dir}/`;
  for (const key of [...tree.keys()]) {
    if (key.startsWith(prefix) && key !== dir && !keep?.has(key)) {
      tree.delete(key);
    }
  }
}

/** Children names of every directory of `tree`. Pure. */
export function childrenOf(tree: BaseTree): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const key of tree.keys()) {
    const slash = key.lastIndexOf("/");
    const dir = slash < 0 ? "" : key.slice(0, slash);
    let list = children.get(dir);
    if (list === undefined) children.set(dir, list = []);
    list.push(key.slice(slash + 1));
  }
  return children;
}

/** A base layer: its blob in the cache. */
export interface BaseLayer {
  mediaType: string;
  digest: string;
  size: number;
}

/**
 * Rebuilds the base's tree from its layers' blobs in `cache`.
 *
 * @returns undefined when a blob is not in the cache.
 */
export async function loadBaseTree(
  cache: BlobCache,
  layers: readonly BaseLayer[],
): Promise<BaseTree | undefined> {
  const tree: BaseTree = new Map();
  for (const layer of layers) {
    const blob = await cache.open(layer.digest, layer.size);
    if (blob === undefined) return undefined;
    const headers: TarHeader[] = [];
    const tar = decompressStream(layer.mediaType, blob);
    for await (const header of readTarHeaders(tar)) headers.push(header);
    applyLayer(tree, headers);
  }
  return tree;
}
