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

/** How a {@linkcode walkInRoot} ended. */
export type Walk =
  | {
    ok: true;
    /** The resolved components (no symlinks), from the root. */
    parts: string[];
    /** The last component as found; undefined when it was just made. */
    info?: Deno.FileInfo;
  }
  | {
    ok: false;
    /** Why: a component missing, too many symlinks, a file used as a
     * directory, or another error reading a component. */
    stop: "missing" | "loop" | "not-a-directory" | "error";
    /** The component it stopped at. */
    part: string;
    /** The error, for `"error"`. */
    error?: unknown;
  };

/**
 * Walks `path` (absolute inside the rootfs) the way the kernel would after
 * `chroot`: symlinks are followed relative to `root`, at most 40 of them,
 * and `..` stops at the root. A missing component is handed to `onMissing`
 * (its host path, whether it is the last one, the resolved components of its
 * directory and its name), which may create it and return true to go on;
 * without it, the walk stops there.
 */
export function walkInRoot(
  root: string,
  path: string,
  onMissing?: (
    host: string,
    last: boolean,
    dir: readonly string[],
    name: string,
  ) => boolean,
): Walk {
  const pending = splitPath(path);
  const parts: string[] = [];
  let info: Deno.FileInfo | undefined;
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "." || part === "..") {
      if (part === "..") parts.pop();
      info = undefined;
      continue;
    }
    const host = `${root}/${[...parts, part].join("/")}`;
    const last = pending.length === 0;
    try {
      info = Deno.lstatSync(host);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        return { ok: false, stop: "error", part, error };
      }
      if (onMissing === undefined || !onMissing(host, last, parts, part)) {
        return { ok: false, stop: "missing", part };
      }
      info = undefined;
      parts.push(part);
      continue;
    }
    if (info.isSymlink) {
      if (++hops > MAX_SYMLINKS) return { ok: false, stop: "loop", part };
      const target = Deno.readLinkSync(host);
      if (target.startsWith("/")) parts.length = 0;
      pending.unshift(...splitPath(target));
      info = undefined;
      continue;
    }
    if (!last && !info.isDirectory) {
      return { ok: false, stop: "not-a-directory", part };
    }
    parts.push(part);
  }
  return { ok: true, parts, info };
}

/**
 * Resolves `path` (absolute inside the rootfs) to a host path under `root`,
 * following symlinks within `root`.
 *
 * @returns The host path, or undefined when a component is missing, is not
 * a directory where one is needed, or symlinks loop.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  const walk = walkInRoot(root, path);
  if (!walk.ok) return undefined;
  return walk.parts.length === 0 ? root : `${root}/${walk.parts.join("/")}`;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}
