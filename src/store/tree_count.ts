/**
 * Counting what is under a directory while something else writes it: the
 * progress of a `cp` that reports nothing itself.
 *
 * @module
 */

/** Entries and bytes of file content found. */
export interface TreeCount {
  /** Files, directories, links and others, the top directory left out. */
  entries: number;
  /** Sizes of the regular files. */
  bytes: number;
}

/**
 * Counts the tree under `path` without following symlinks. Whatever
 * vanishes or cannot be read while it is walked is left out; never throws.
 */
export async function countTree(path: string): Promise<TreeCount> {
  const count: TreeCount = { entries: 0, bytes: 0 };
  const walk = async (dir: string): Promise<void> => {
    let listing: Deno.DirEntry[];
    try {
      listing = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const entry of listing) {
      count.entries++;
      const child = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(child);
      else if (entry.isFile) {
        count.bytes += (await Deno.lstat(child).catch(() => ({ size: 0 })))
          .size;
      }
    }
  };
  await walk(path);
  return count;
}

/**
 * Calls `report` with {@linkcode countTree} of `path` every `everyMs`
 * (never two walks at once) until the returned function is called.
 */
export function watchTree(
  path: string,
  everyMs: number,
  report: (count: TreeCount) => void,
): () => void {
  let walking = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (walking) return;
    walking = true;
    countTree(path).then((count) => {
      if (!stopped) report(count);
    }).finally(() => walking = false);
  }, everyMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
