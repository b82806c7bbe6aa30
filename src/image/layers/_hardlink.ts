/**
 * Resolving a hardlink's target securely: the name is classified like an
 * entry name (`..` refused, absolute contained), its parents are resolved
 * inside the rootfs, and the last component is not followed. The target
 * must exist and not be a directory; a symlink target must not point
 * outside the rootfs (as the host would read it).
 *
 * @module
 */

import { LayerApplyError, LayerLimitError, LayerPathError } from "./errors.ts";
import type { Limits } from "./limits.ts";
import { classifyEntryPath, symlinkEscapes } from "./paths.ts";
import type { Node, RootTree } from "./_tree.ts";

/**
 * The node a hardlink entry may link to.
 *
 * @throws {LayerPathError} For an unsafe target.
 * @throws {LayerApplyError} When the target does not exist.
 */
export async function linkTarget(
  tree: RootTree,
  limits: Limits,
  entry: string,
  linkname: string,
): Promise<Node> {
  const where = classifyEntryPath(linkname, limits);
  if (where.kind === "refused") {
    throw new LayerPathError(entry, `link target: ${where.reason}`);
  }
  if (where.kind === "limit") {
    throw new LayerLimitError(where.limit, where.max, where.detail);
  }
  if (where.kind === "root") {
    throw new LayerPathError(entry, "a hardlink to the rootfs itself");
  }
  const { segments } = where;
  const dir = await tree.resolveDir(segments.slice(0, -1), false, entry);
  const target = dir && await tree.child(dir, segments.at(-1)!);
  if (target === undefined || target.kind === "absent") {
    throw new LayerApplyError(
      entry,
      `hardlink target "${linkname}" does not exist`,
    );
  }
  if (target.kind === "dir") {
    throw new LayerPathError(entry, "a hardlink to a directory");
  }
  if (target.kind === "symlink") {
    target.target ??= await Deno.readLink(target.host);
    const at = tree.pathOf(target).split("/").filter((p) => p !== "");
    if (symlinkEscapes(at, target.target)) {
      throw new LayerPathError(
        entry,
        "a hardlink to a symlink that points outside the rootfs",
      );
    }
  }
  return target;
}
