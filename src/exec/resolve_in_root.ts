/**
 * Path resolution inside a root filesystem, as the kernel would do it after
 * `chroot`: symlinks are followed relative to the rootfs, and `..` never
 * climbs above it (a secure join).
 *
 * Permissions: `--allow-read` on the rootfs.
 *
 * @module
 */

const MAX_SYMLINKS = 40;

/**
 * Resolves `path` (absolute inside the rootfs) to a host path under `root`,
 * following symlinks within `root`.
 *
 * @returns The host path, or undefined when a component is missing, is not
 * a directory where one is needed, or symlinks loop.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const pending = splitPath(path);
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
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(host);
    } catch {
      return undefined;
    }
    if (info.isSymlink) {
      if (++hops > MAX_SYMLINKS) return undefined;
      const target = Deno.readLinkSync(host);
      if (target.startsWith("/")) resolved.length = 0;
      pending.unshift(...splitPath(target));
      continue;
    }
    if (pending.length > 0 && !info.isDirectory) return undefined;
    resolved.push(part);
  }
  return resolved.length === 0 ? root : `${root}/${resolved.join("/")}`;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}
