/**
 * Asks ext4 to place each new entry in a block group of its own.
 *
 * ext4 puts a new directory's inodes near its parent's, unless the parent
 * is the file system's root or carries the "top of directory hierarchy"
 * attribute (`chattr +T`, `FS_TOPDIR_FL`): then the Orlov allocator spreads
 * its subdirectories over the groups with the most free inodes and blocks,
 * starting the search at a hash of the new directory's name (an entry's
 * UUID, so a random group each time, not the one the last removed entry
 * freed: ext4 without a journal skips inodes freed in the last 30 s).
 * An entry is thousands of inodes made at once in one new directory, and
 * in a crowded group (the one a busy `/tmp` or `/var` lives in) each
 * allocation can scan far: extracting the Debian image's 6,661 entries
 * took 2 to 4 s under a plain parent and 0.2 to 0.3 s under a `+T` one on
 * the benchmark machine (`docs/benchmarks.md`). So polythene sets `+T` on
 * the directories entries are made in: `STORE/.polythene/staging`, the run
 * root (`exec --ephemeral`'s overlay uppers) and the layer-stack cache.
 *
 * Best effort: on another file system `chattr` fails ("Operation not
 * supported") and nothing changes; without `chattr` nothing changes
 * either. The attribute is not inherited and changes no permission; no
 * privilege is needed to set it on one's own directory.
 *
 * Permissions: `--allow-run=chattr` ({@linkcode SPREAD_PROGRAMS}).
 *
 * @module
 */

import type { Log } from "../log.ts";
import { type CapturedResult, runCaptured } from "../process/spawn.ts";

/** Programs this module starts. */
export const SPREAD_PROGRAMS = ["chattr"] as const;

/** Where `chattr` is looked up: e2fsprogs installs it in `/usr/bin`. */
const TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/** Directories this process has tried to mark, and whether it did. */
const tried = new Map<string, boolean>();

/** Runs one argv with its output captured. */
export type RunSpread = (
  argv: readonly string[],
  env: Record<string, string>,
) => Promise<CapturedResult>;

/**
 * The argv that marks `dir`. Pure. `--` ends the options, so a path that
 * starts with `-` or `+` is a path.
 */
export function spreadArgv(dir: string): string[] {
  return ["chattr", "+T", "--", dir];
}

/**
 * Sets `+T` on `dir`, once per process; a failure is logged (verbose) and
 * otherwise ignored.
 *
 * @param dir A directory polythene made, private to the store's owner.
 * @returns Whether `chattr` succeeded (the first try's answer, later).
 */
export async function spreadEntries(
  dir: string,
  log: Log = () => {},
  run: RunSpread = runCaptured,
): Promise<boolean> {
  const known = tried.get(dir);
  if (known !== undefined) return known;
  const done = await mark(dir, log, run);
  tried.set(dir, done);
  return done;
}

async function mark(dir: string, log: Log, run: RunSpread): Promise<boolean> {
  let result: CapturedResult;
  try {
    result = await run(spreadArgv(dir), { PATH: TOOL_PATH, LC_ALL: "C" });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    log(`new entries are not spread over block groups: ${why}`);
    return false;
  }
  if (result.code !== 0) {
    const why = result.stderr.trim().split("\n").at(-1) ||
      `exit ${result.code}`;
    log(`new entries are not spread over block groups (chattr +T): ${why}`);
    return false;
  }
  log(`new entries are spread over block groups (chattr +T ${dir})`);
  return true;
}
