/**
 * Writing a small file into a directory that may hold hostile names (a
 * staging rootfs, the store's state directory) without following a link.
 *
 * The bytes go to a new file made with `O_CREAT|O_EXCL` under a random name
 * in the same directory, which is then renamed over the target. `O_EXCL`
 * never follows a symlink and `rename` replaces a symlink itself, never
 * what it points to, so no host file can be truncated or written through
 * the name. A directory, FIFO, device or socket at the target is refused
 * before anything is written: a FIFO is never opened (no hang), and a
 * directory is never silently kept beside a lost write.
 *
 * The directory itself must be one this process made or checked (the
 * staging directory, `STORE/.polythene/entries`): only its last component
 * is looked at.
 *
 * Permissions: `--allow-read`, `--allow-write` on the directory.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import { escapeControl } from "../escape.ts";

/** Something other than a regular file or symlink is at the target name. */
export class UnsafeTargetError extends PolytheneError {
  /** The path that was to be written. */
  readonly path: string;
  /** What is in the way: `directory`, `FIFO`, `device node`, ... */
  readonly kind: string;

  /** Makes the error for `path`, where a `kind` is in the way (exit 1). */
  constructor(path: string, kind: string) {
    super(
      `Cannot write "${
        escapeControl(path)
      }": a ${kind} is in the way, not a regular file`,
      { exitCode: 1 },
    );
    this.name = "UnsafeTargetError";
    this.path = path;
    this.kind = kind;
  }
}

/** What an `lstat` result is, in words, when it may not be replaced. */
export function blockingKind(info: Deno.FileInfo): string | undefined {
  if (info.isFile || info.isSymlink) return undefined;
  if (info.isDirectory) return "directory";
  if (info.isFifo) return "FIFO";
  if (info.isCharDevice || info.isBlockDevice) return "device node";
  if (info.isSocket) return "socket";
  return "special file";
}

/** `DIR/.polythene-tmp-<random>`: the staging name of one write. */
function temporaryName(dir: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${dir}/.polythene-tmp-${hex}`;
}

/**
 * Replaces `DIR/NAME` with a new regular file holding `data`, atomically
 * and without following a link at `NAME`.
 *
 * @param dir A directory this process owns (not checked for symlinks).
 * @param name One path component.
 * @param data The file's content.
 * @param mode Permission bits of the new file (default 0644).
 * @throws {UnsafeTargetError} when a directory, FIFO, device or socket is
 * at `DIR/NAME`; nothing is written then.
 */
export async function writeFileNoFollow(
  dir: string,
  name: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const target = checkName(dir, name);
  const kind = await Deno.lstat(target).then(blockingKind, missing);
  if (kind !== undefined) throw new UnsafeTargetError(target, kind);
  const tmp = temporaryName(dir);
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  try {
    await Deno.writeFile(tmp, bytes, { createNew: true, mode });
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, target);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** {@linkcode writeFileNoFollow}, synchronously. */
export function writeFileNoFollowSync(
  dir: string,
  name: string,
  data: string | Uint8Array,
  mode = 0o644,
): void {
  const target = checkName(dir, name);
  let kind: string | undefined;
  try {
    kind = blockingKind(Deno.lstatSync(target));
  } catch (error) {
    kind = missing(error);
  }
  if (kind !== undefined) throw new UnsafeTargetError(target, kind);
  const tmp = temporaryName(dir);
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  try {
    Deno.writeFileSync(tmp, bytes, { createNew: true, mode });
    Deno.chmodSync(tmp, mode);
    Deno.renameSync(tmp, target);
  } catch (error) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never made.
    }
    throw error;
  }
}

function checkName(dir: string, name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new TypeError(`Not one path component: "${name}"`);
  }
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/** An lstat failure: nothing there (undefined), or rethrown. */
function missing(error: unknown): undefined {
  if (error instanceof Deno.errors.NotFound) return undefined;
  throw error;
}
