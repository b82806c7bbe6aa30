/**
 * The entry's tree as commit sees it: every path under `STORE/UUID` with
 * its type, mode, owner, size, mtime, link target, device numbers and
 * inode, from `lstat` (links are never followed). Owners and modes come from
 * disk as root; without root, from what extraction recorded (see
 * {@linkcode OwnerSource}).
 *
 * Permissions: `--allow-read` on the entry.
 *
 * @module
 */

import { escapeControl } from "../../escape.ts";
import { PolytheneError } from "../../errors.ts";
import type { TreeNode } from "./tar_format.ts";

/** One path of the entry. */
export interface EntryNode extends TreeNode {
  /** `dev:ino`, for regular files with more than one link. */
  inode?: string;
}

/** The scanned tree: nodes by key (`etc/passwd`; `""` is the root). */
export interface EntryTree {
  nodes: Map<string, EntryNode>;
  /** Sorted children names of each directory. */
  children: Map<string, string[]>;
  /** Sockets, which a tar cannot hold; left out. */
  sockets: string[];
}

/** How owners and modes on disk become the image's. */
export interface OwnerSource {
  /** The image's owner and mode of `key`, given what `lstat` says. */
  (key: string, info: Deno.FileInfo, type: EntryNode["type"]): {
    uid: number;
    gid: number;
    mode: number;
  };
}

/** As root: what is on disk. */
export const diskOwners: OwnerSource = (_key, info) => ({
  uid: info.uid ?? 0,
  gid: info.gid ?? 0,
  mode: (info.mode ?? 0) & 0o7777,
});

/** Files or directories commit cannot read (exit 1). */
export class UnreadableFilesError extends PolytheneError {
  /** The in-rootfs paths. */
  readonly paths: string[];

  /** Makes the error for `paths` of entry `uuid`. */
  constructor(uuid: string, paths: string[]) {
    const shown = paths.slice(0, 5).map((p) => `/${escapeControl(p)}`);
    super(
      `Cannot commit ${uuid}: ${paths.length} path(s) cannot be read: ${
        shown.join(", ")
      }${paths.length > 5 ? ", ..." : ""}`,
      {
        exitCode: 1,
        hint: "make them readable (e.g. chmod u+r inside the entry), or " +
          "commit as the user who can read them",
      },
    );
    this.name = "UnreadableFilesError";
    this.paths = paths;
  }
}

/** Linux `major()`/`minor()` of a `st_rdev`. Pure. */
export function deviceNumbers(rdev: number): [number, number] {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  const major = ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (low & 0xff) | ((low >>> 12) & 0xfff00);
  return [major >>> 0, minor >>> 0];
}

/**
 * Scans `root`. Paths in `exclude` (keys) are left out, with what is under
 * them. Files are not opened here: {@linkcode unreadableFiles} checks those
 * that go into the layer.
 *
 * @throws {UnreadableFilesError} naming every directory that cannot be
 * listed; {PolytheneError} naming paths whose names are not UTF-8 (Deno
 * cannot name them).
 */
export async function scanEntry(
  root: string,
  uuid: string,
  owners: OwnerSource,
  exclude: ReadonlySet<string>,
): Promise<EntryTree> {
  const nodes = new Map<string, EntryNode>();
  const children = new Map<string, string[]>();
  const sockets: string[] = [];
  const unreadable: string[] = [];
  const unnamable: string[] = [];
  const visit = async (key: string) => {
    const path = key === "" ? root : `${root}/${key}`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      // A name that is not UTF-8 comes back from readDir with U+FFFD in
      // it, and then names nothing.
      if (!(error instanceof Deno.errors.NotFound) || !key.includes("\uFFFD")) {
        throw error;
      }
      unnamable.push(key);
      return;
    }
    const type = typeOf(info);
    if (type === undefined) {
      sockets.push(key);
      return;
    }
    const owner = owners(key, info, type);
    const node: EntryNode = {
      type,
      ...owner,
      size: type === "file" ? info.size : 0,
      mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
    };
    if (type === "symlink") node.linkname = await Deno.readLink(path);
    if (type === "char" || type === "block") {
      [node.devmajor, node.devminor] = deviceNumbers(info.rdev ?? 0);
    }
    if (type === "file" && (info.nlink ?? 1) > 1) {
      node.inode = `${info.dev}:${info.ino}`;
    }
    nodes.set(key, node);
    if (type !== "dir") return;
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(path)) {
        const child = key === "" ? entry.name : `${key}/${entry.name}`;
        if (!exclude.has(child)) names.push(entry.name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
      unreadable.push(key === "" ? "." : key);
    }
    names.sort();
    children.set(key, names);
    for (const name of names) await visit(key === "" ? name : `${key}/${name}`);
  };
  await visit("");
  if (unreadable.length > 0) throw new UnreadableFilesError(uuid, unreadable);
  if (unnamable.length > 0) {
    throw new PolytheneError(
      `Cannot commit ${uuid}: ${unnamable.length} name(s) are not UTF-8: ${
        unnamable.slice(0, 5).map((key) => `/${escapeControl(key)}`).join(", ")
      }`,
      { exitCode: 1, hint: "rename them inside the entry, then commit again" },
    );
  }
  return { nodes, children, sockets };
}

function typeOf(info: Deno.FileInfo): EntryNode["type"] | undefined {
  if (info.isFile) return "file";
  if (info.isDirectory) return "dir";
  if (info.isSymlink) return "symlink";
  if (info.isCharDevice) return "char";
  if (info.isBlockDevice) return "block";
  if (info.isFifo) return "fifo";
  return undefined;
}

/** The keys of `files` under `root` that cannot be opened for reading. */
export async function unreadableFiles(
  root: string,
  files: Iterable<string>,
): Promise<string[]> {
  const out: string[] = [];
  for (const key of files) {
    try {
      (await Deno.open(`${root}/${key}`, { read: true })).close();
    } catch (error) {
      if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
      out.push(key);
    }
  }
  return out;
}
