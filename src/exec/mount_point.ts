/**
 * Mount points inside a rootfs, found and made without ever leaving it.
 *
 * A bind's target is resolved the way the kernel would after `chroot`
 * (symlinks relative to the rootfs, `..` stopping at its root), and missing
 * components are created with calls that never follow a symlink (`mkdir`,
 * and `open` with `O_EXCL`). Nothing is mounted or created under `/proc`,
 * `/dev` or `/sys`, where the backends mount file systems of their own. The backends are then given the resolved path,
 * which holds no symlink, so no mount can land outside the rootfs.
 *
 * Permissions: `--allow-read` and `--allow-write` on the rootfs.
 *
 * @module
 */

import { ExitCode, PolytheneError } from "../errors.ts";
import { walkInRoot } from "./resolve_in_root.ts";
import { sandboxMountOf } from "./rootfs_shape.ts";

/**
 * Resolves `path` inside `root`, creating what is missing: directories, and
 * for `kind` `"file"` an empty last component.
 *
 * @returns The resolved absolute path inside the rootfs (no symlinks).
 * @throws {PolytheneError} (exit 2) when a component is not a directory,
 * the last one is not of `kind`, symlinks loop, or it resolves to `/` or
 * under `/proc`, `/dev` or `/sys` (nothing is created there).
 */
export function mountPointInRoot(
  root: string,
  path: string,
  kind: "dir" | "file",
): string {
  const fail = (why: string) =>
    new PolytheneError(`Cannot mount on "${path}" inside the rootfs: ${why}`, {
      exitCode: ExitCode.Usage,
    });
  const under = (mount: string) =>
    fail(`it is under ${mount}, which the sandbox mounts itself`);
  const walk = walkInRoot(root, path, (host, last) => {
    const mount = sandboxMountOf(host.slice(root.length + 1).split("/"));
    if (mount !== undefined) throw under(mount);
    try {
      if (last && kind === "file") {
        Deno.openSync(host, { createNew: true, write: true }).close();
      } else {
        Deno.mkdirSync(host, { mode: 0o755 });
      }
    } catch (error) {
      throw fail(`cannot create "${host}": ${(error as Error).message}`);
    }
    return true;
  });
  if (!walk.ok) {
    switch (walk.stop) {
      case "loop":
        throw fail("too many symlinks");
      case "not-a-directory":
        throw fail(`"${walk.part}" is not a directory`);
      default:
        throw fail(String(walk.error));
    }
  }
  const mount = sandboxMountOf(walk.parts);
  if (mount !== undefined) throw under(mount);
  const info = walk.info;
  if (info !== undefined && kind === "dir" && !info.isDirectory) {
    throw fail("it is not a directory");
  }
  if (info !== undefined && kind === "file" && info.isDirectory) {
    throw fail("it is a directory, and the source is not");
  }
  if (walk.parts.length === 0) throw fail("it is the rootfs itself");
  return `/${walk.parts.join("/")}`;
}
