/**
 * Free space of the filesystem that holds a path, for the pull's check
 * that an image fits before it is written.
 *
 * Deno has no `statfs` of its own; `node:fs`'s `statfs` is one system call
 * (no process to spawn) and needs `--allow-sys=statfs`. Only `pull` imports
 * this module, so `exec` never loads `node:fs`.
 *
 * @module
 */

import { statfs } from "node:fs/promises";

/**
 * Bytes an unprivileged user may still write on the filesystem holding
 * `path` (`f_bavail * f_bsize`, as `df` shows them; root's reserved blocks
 * are left alone), or undefined when that cannot be read.
 *
 * Permissions: `--allow-read`, `--allow-sys=statfs`.
 */
export async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const info = await statfs(path);
    const bytes = Number(info.bavail) * Number(info.bsize);
    return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
  } catch (error) {
    // A missing permission is a bug in the permission list: say so.
    if (error instanceof Deno.errors.NotCapable) throw error;
    return undefined;
  }
}
