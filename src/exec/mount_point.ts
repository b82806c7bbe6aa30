/**
 * Mount points inside a rootfs, found and made without ever leaving it.
 *
 * A bind's target is resolved the way the kernel would after `chroot`
 * (symlinks relative to the rootfs, `..` stopping at its root), and missing
 * components are created with calls that never follow a symlink (`mkdir`,
 * and `open` with `O_EXCL`). The backends are then given the resolved path,
 * which holds no symlink, so no mount can land outside the rootfs.
 *
 * Permissions: `--allow-read` and `--allow-write` on the rootfs.
 *
 * @module
 */

import { ExitCode, PolytheneError } from "../errors.ts";

const MAX_SYMLINKS = 40;

/**
 * Resolves `path` inside `root`, creating what is missing: directories, and
 * for `kind` `"file"` an empty last component.
 *
 * @returns The resolved absolute path inside the rootfs (no symlinks).
 * @throws {PolytheneError} (exit 2) when a component is not a directory,
 * the last one is not of `kind`, symlinks loop, or it resolves to `/`.
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
  const pending = split(path);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const host = `${root}/${[...resolved, part].join("/")}`;
    const last = pending.length === 0;
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.lstatSync(host);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw fail(String(error));
    }
    if (info === undefined) {
      try {
        if (last && kind === "file") {
          Deno.openSync(host, { createNew: true, write: true }).close();
        } else {
          Deno.mkdirSync(host, { mode: 0o755 });
        }
      } catch (error) {
        throw fail(`cannot create "${host}": ${(error as Error).message}`);
      }
      resolved.push(part);
      continue;
    }
    if (info.isSymlink) {
      if (++hops > MAX_SYMLINKS) throw fail("too many symlinks");
      const target = Deno.readLinkSync(host);
      if (target.startsWith("/")) resolved.length = 0;
      pending.unshift(...split(target));
      continue;
    }
    if (!last && !info.isDirectory) throw fail(`"${part}" is not a directory`);
    if (last && kind === "dir" && !info.isDirectory) {
      throw fail("it is not a directory");
    }
    if (last && kind === "file" && info.isDirectory) {
      throw fail("it is a directory, and the source is not");
    }
    resolved.push(part);
  }
  if (resolved.length === 0) throw fail("it is the rootfs itself");
  return `/${resolved.join("/")}`;
}

function split(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}
