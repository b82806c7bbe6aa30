/**
 * The store's one tree copier, used by `clone` and by warm pulls (a new
 * entry made from the layer-stack cache): `cp -a --reflink=auto`.
 *
 * - A reflink (`FICLONE`) where the filesystem has them (btrfs, XFS): the
 *   copy shares extents copy-on-write, so it is nearly free and a write in
 *   one tree never shows in the other.
 * - A full copy otherwise, preserving owners, modes, timestamps, xattrs,
 *   hardlinks within the tree and holes in sparse files.
 * - Never a hardlink to the source: entries must not share inodes with the
 *   cache or with each other.
 * - Symlinks are copied as symlinks, never followed (`-a` is `-dR`), and
 *   the target is a directory this process just created, so no link from
 *   an image is followed on the host.
 *
 * The copy is one process. Its cost on ext4 is mostly where the new inodes
 * land, which the staging root's `+T` settles (`spread.ts`): the Debian
 * entry copies in about 0.27 s there. Two `cp` processes over subtrees took
 * about 0.18 s, but would split hardlinks that cross the subtrees (cp keeps
 * them only within one run), so the gain is not taken (docs/benchmarks.md).
 *
 * Permissions: `--allow-run=cp` ({@linkcode COPY_PROGRAMS}), and `unshare`
 * when the user has full id maps (see `mapped_ids.ts`).
 *
 * @module
 */

import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";
import { copyInMappedIds } from "./mapped_ids.ts";

/** Programs the copier starts. */
export const COPY_PROGRAMS = ["cp"] as const;

/** The `cp` argv that copies the tree at `from` onto the directory `to`. Pure. */
export function copyTreeArgv(cp: string, from: string, to: string): string[] {
  return [cp, "-a", "--reflink=auto", "--", `${from}/.`, `${to}/`];
}

/** Why a copy failed: one line for the user. */
export class CopyTreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CopyTreeError";
  }
}

/** Options of {@linkcode copyTree}. */
export interface CopyTreeOptions {
  /** The host's PATH, where `cp` is looked up. */
  hostPath: string;
  /**
   * Copy in the user's full id maps when they exist, so that files of
   * subordinate ids (`--id-map full`) are read and keep their owners.
   */
  mappedIds?: boolean;
}

/**
 * Copies the content and attributes of directory `from` onto `to`, which
 * must exist, be empty and be private to this process.
 *
 * @throws {CopyTreeError} when `cp` is missing or fails (its last stderr
 * line is in the message).
 */
export async function copyTree(
  from: string,
  to: string,
  options: CopyTreeOptions,
): Promise<void> {
  const cp = which("cp", options.hostPath);
  if (cp === undefined) throw new CopyTreeError("cp is not on PATH");
  const argv = copyTreeArgv(cp.path, from, to);
  const env = { PATH: options.hostPath, LC_ALL: "C" };
  await runCopy(
    options.mappedIds ? copyInMappedIds(argv, env) : { argv, env },
  );
}

/**
 * Runs a copy's argv (a `cp`, or `cp` wrapped to run in mapped ids).
 *
 * @throws {CopyTreeError} when it fails (its last stderr line is in the
 * message).
 */
export async function runCopy(
  run: { argv: string[]; env: Record<string, string> },
): Promise<void> {
  const out = await runCaptured(run.argv, run.env);
  if (out.code !== 0) {
    throw new CopyTreeError(
      `cp failed (exit ${out.code}): ${
        out.stderr.trim().split("\n").slice(-1)[0] ?? ""
      }`,
    );
  }
}
