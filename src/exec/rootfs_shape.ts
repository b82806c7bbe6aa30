/**
 * What a rootfs must look like before any backend is started: the places
 * every backend mounts its own file systems on (`/proc`, `/dev`) and `/tmp`
 * are directories, and nothing the command is given (its working directory,
 * a bind's target) lies under a file system the sandbox mounts itself.
 *
 * An image that breaks these rules would otherwise make a backend fail while
 * setting up, which is not a reason to try a weaker one: see
 * `docs/design.md`, "No image can choose the backend".
 *
 * Permissions: `--allow-read` and `--allow-write` on the rootfs.
 *
 * @module
 */

import { ExitCode, PolytheneError } from "../errors.ts";

/**
 * Top-level directories where the backends mount kernel file systems of the
 * sandbox's own (`/proc`, `/dev`) or which stand for the host's (`/sys`):
 * no working directory or bind target may lie under them.
 */
export const SANDBOX_MOUNTS: readonly string[] = ["proc", "dev", "sys"];

/** Directories that must be directories when present, with their mode. */
const REQUIRED_DIRS: readonly (readonly [string, number])[] = [
  ["proc", 0o555],
  ["dev", 0o755],
  ["tmp", 0o1777],
];

/**
 * The sandbox mount that `parts` (the resolved components of a path inside
 * the rootfs, from its root) lies in or under, or undefined. Pure.
 */
export function sandboxMountOf(
  parts: readonly string[],
): string | undefined {
  const top = parts[0];
  return top !== undefined && SANDBOX_MOUNTS.includes(top)
    ? `/${top}`
    : undefined;
}

/**
 * Checks that `/proc`, `/dev` and `/tmp` are real directories when present
 * (a symlink is refused too), and creates the missing ones (a failure to
 * create is left to the backend, which then fails as an error).
 *
 * @throws {PolytheneError} (exit 1) naming the first one that is not.
 */
export function checkRootfsShape(rootfs: string): void {
  for (const [name, mode] of REQUIRED_DIRS) {
    const path = `${rootfs}/${name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) createDir(path, mode);
      continue;
    }
    if (!info.isDirectory) {
      const what = info.isSymlink ? "a symlink" : "not a directory";
      throw new PolytheneError(
        `Refusing to run in "${rootfs}": its /${name} is ${what}, where every backend needs a directory (the image is malformed)`,
        { exitCode: ExitCode.NotFound },
      );
    }
  }
}

function createDir(path: string, mode: number): void {
  try {
    // mkdir never follows a symlink at its last component.
    Deno.mkdirSync(path, { mode });
    Deno.chmodSync(path, mode);
  } catch {
    // A read-only entry: the backend reports it.
  }
}
