/**
 * Pure decisions about entry names: how a name from the archive maps to a
 * path inside the rootfs, and whether a symlink target would leave it when
 * read by the host.
 *
 * Policy: a leading `/` is dropped (absolute names are contained: `/etc/x`
 * is `ROOTFS/etc/x`, as GNU tar does); `.` and empty components are
 * dropped; any `..` component refuses the whole layer, since no tar writer
 * produces one and a lexical clean would disagree with how the kernel walks
 * a symlinked parent. Symlinks met while walking the parents are resolved
 * inside the rootfs later, by the extractor.
 *
 * @module
 */

import type { LimitName } from "./errors.ts";
import type { Limits } from "./limits.ts";

/** How an entry name maps into the rootfs. */
export type EntryPath =
  /** The rootfs itself (`.`, `./`, `/`). */
  | { kind: "root" }
  /** A path below the rootfs, as components (none is `.`, `..` or empty). */
  | { kind: "path"; segments: string[] }
  /** Unsafe: the layer must be refused. */
  | { kind: "refused"; reason: string }
  /** Over a cap of {@linkcode Limits}. */
  | { kind: "limit"; limit: LimitName; max: number; detail: string };

const encoder = new TextEncoder();

/** UTF-8 length of `text`, computed only when it could matter. */
function byteLength(text: string, max: number): number {
  return text.length * 3 <= max ? text.length : encoder.encode(text).length;
}

/**
 * Classifies an entry name (or a hardlink target) from the archive. Pure.
 *
 * @param name The name as decoded from the tar header (PAX/GNU expanded).
 * @param limits The name caps to apply.
 */
export function classifyEntryPath(
  name: string,
  limits: Pick<Limits, "maxNameBytes" | "maxComponentBytes" | "maxDepth">,
): EntryPath {
  if (name.includes("\0")) {
    return { kind: "refused", reason: "the name contains a NUL byte" };
  }
  if (byteLength(name, limits.maxNameBytes) > limits.maxNameBytes) {
    return {
      kind: "limit",
      limit: "maxNameBytes",
      max: limits.maxNameBytes,
      detail: `a name of ${encoder.encode(name).length} bytes`,
    };
  }
  const segments: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      return {
        kind: "refused",
        reason: 'the name has a ".." component',
      };
    }
    if (byteLength(part, limits.maxComponentBytes) > limits.maxComponentBytes) {
      return {
        kind: "limit",
        limit: "maxComponentBytes",
        max: limits.maxComponentBytes,
        detail: `a path component of ${encoder.encode(part).length} bytes`,
      };
    }
    segments.push(part);
  }
  if (segments.length === 0) return { kind: "root" };
  if (segments.length > limits.maxDepth) {
    return {
      kind: "limit",
      limit: "maxDepth",
      max: limits.maxDepth,
      detail: `a path ${segments.length} components deep`,
    };
  }
  return { kind: "path", segments };
}

/**
 * Whether a symlink at `linkSegments` with `target` points outside the
 * rootfs when the host (not a sandbox) follows it: absolute targets do, and
 * relative ones whose `..` climb above the rootfs. Pure; it ignores other
 * symlinks on the way, so it answers for the text of the target only.
 */
export function symlinkEscapes(
  linkSegments: readonly string[],
  target: string,
): boolean {
  if (target.startsWith("/")) return true;
  let depth = linkSegments.length - 1;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (--depth < 0) return true;
    } else {
      depth++;
    }
  }
  return false;
}
