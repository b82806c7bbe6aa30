/**
 * Pure planning of OCI whiteouts (image-spec `layer.md`): an entry named
 * `.wh.NAME` deletes `NAME` from the lower layers, `.wh..wh..opq` empties
 * its directory of lower-layer content. Other `.wh..wh.` names are AUFS
 * bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) and are skipped.
 *
 * @module
 */

/** The whiteout prefix. */
export const WHITEOUT_PREFIX = ".wh.";
/** The opaque-directory marker. */
export const OPAQUE_MARKER = ".wh..wh..opq";
const AUFS_META_PREFIX = ".wh..wh.";

/** What an entry means as a whiteout. */
export type WhiteoutPlan =
  /** An ordinary entry: extract it. */
  | { kind: "none" }
  /** Remove `dir/name` (and everything under it) from lower layers. */
  | { kind: "remove"; dir: string[]; name: string }
  /** Remove the lower-layer content of `dir`, keeping `dir` itself. */
  | { kind: "opaque"; dir: string[] }
  /** AUFS metadata: skip the entry. */
  | { kind: "ignore" }
  /** Malformed: the layer must be refused. */
  | { kind: "invalid"; reason: string };

/**
 * Plans the whiteout named by an entry. Pure.
 *
 * @param segments The entry's path inside the rootfs, as returned by
 * `classifyEntryPath` (so no `..` or `.` component).
 */
export function planWhiteout(segments: readonly string[]): WhiteoutPlan {
  const base = segments[segments.length - 1];
  if (base === undefined || !base.startsWith(WHITEOUT_PREFIX)) {
    return { kind: "none" };
  }
  const dir = segments.slice(0, -1);
  if (base === OPAQUE_MARKER) return { kind: "opaque", dir };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: "ignore" };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "" || name === "." || name === "..") {
    return {
      kind: "invalid",
      reason: `a whiteout must name an entry, not "${name}"`,
    };
  }
  return { kind: "remove", dir, name };
}
