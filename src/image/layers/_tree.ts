/**
 * The extractor's model of the rootfs: one node per path this layer has
 * looked at, so that walking a parent costs map lookups, not `lstat`s.
 * Paths are resolved the way the kernel would after `chroot`: symlinks
 * relative to the rootfs, `..` stopping at its root. Every node is a real
 * path (no symlink in it), so host paths built from nodes never leave the
 * rootfs. A directory this layer created starts `complete` (nothing below
 * it comes from a lower layer); others are looked up on disk on demand.
 *
 * The staging directory is private to this process; nothing else changes
 * it while a layer is applied (the usual assumption of tar extractors).
 *
 * @module
 */

import { LayerApplyError } from "./errors.ts";

/** What is at a path. */
export type Kind = "dir" | "file" | "symlink" | "other" | "absent";

/** Metadata applied to a directory after its layer (mtimes, final mode). */
export interface DirFixup {
  /** Mode to set on disk. */
  mode: number;
  /** Owner to set, as root; undefined when unchanged. */
  owner?: { uid: number; gid: number };
  /** Modification time. */
  mtime?: Date;
}

/** One path in the rootfs. */
export class Node {
  kind: Kind;
  readonly name: string;
  readonly parent: Node;
  /** Host path: the rootfs path plus this node's real path. */
  readonly host: string;
  /** Directory: children looked at so far. */
  children?: Map<string, Node>;
  /** Directory: `children` lists everything on disk. */
  complete = false;
  /** Created or replaced by this layer. */
  written = false;
  /** Some descendant was created or replaced by this layer. */
  hasWritten = false;
  /** Directory with setgid on disk: new entries take its group. */
  setgid = false;
  /** Symlink target, read when first needed. */
  target?: string;
  /** Directory metadata to apply when the layer is done. */
  fixup?: DirFixup;

  constructor(
    kind: Kind,
    name: string,
    parent: Node | undefined,
    host: string,
  ) {
    this.kind = kind;
    this.name = name;
    this.parent = parent ?? this;
    this.host = host;
  }
}

const MAX_SYMLINK_HOPS = 40;

/** The tree of one rootfs, for one layer. */
export class RootTree {
  readonly root: Node;
  readonly #rootLength: number;

  /** @param root Absolute, canonical host path of the rootfs. */
  constructor(root: string) {
    this.root = new Node("dir", "", undefined, root);
    this.#rootLength = root.length;
  }

  /** The node's path inside the rootfs, e.g. `/usr/bin` (`/` for the root). */
  pathOf(node: Node): string {
    return node.host.slice(this.#rootLength) || "/";
  }

  /** What is at `name` in directory `dir` (an `absent` node if nothing). */
  async child(dir: Node, name: string): Promise<Node> {
    const known = dir.children?.get(name);
    if (known !== undefined) return known;
    const host = `${dir.host}/${name}`;
    let kind: Kind = "absent";
    let setgid = false;
    if (!dir.complete) {
      try {
        const info = await Deno.lstat(host);
        kind = info.isDirectory
          ? "dir"
          : info.isSymlink
          ? "symlink"
          : info.isFile
          ? "file"
          : "other";
        setgid = ((info.mode ?? 0) & 0o2000) !== 0;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    const node = new Node(kind, name, dir, host);
    node.setgid = setgid;
    (dir.children ??= new Map()).set(name, node);
    return node;
  }

  /** Replaces `old` (a child of its parent) by a new node of `kind`. */
  replace(old: Node, kind: Kind): Node {
    const node = new Node(kind, old.name, old.parent, old.host);
    old.parent.children!.set(old.name, node);
    if (kind === "dir") node.complete = true;
    return node;
  }

  /** Marks `node` as written by this layer, and its ancestors. */
  markWritten(node: Node): void {
    node.written = true;
    let up = node.parent;
    while (!up.hasWritten) {
      up.hasWritten = true;
      if (up === up.parent) break;
      up = up.parent;
    }
  }

  /**
   * Resolves a directory path inside the rootfs, following symlinks within
   * it. With `create`, missing directories are made (mode 0755) and a
   * non-directory on the way is an error; without, either gives undefined.
   *
   * @param entry The archive entry, for error messages.
   */
  async resolveDir(
    segments: readonly string[],
    create: boolean,
    entry: string,
  ): Promise<Node | undefined> {
    let dir = this.root;
    const stack = segments.toReversed();
    let hops = 0;
    while (stack.length > 0) {
      const part = stack.pop()!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        dir = dir.parent;
        continue;
      }
      let next = await this.child(dir, part);
      if (next.kind === "symlink") {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new LayerApplyError(entry, "too many levels of symlinks");
        }
        next.target ??= await Deno.readLink(next.host);
        if (next.target.startsWith("/")) dir = this.root;
        for (const p of next.target.split("/").reverse()) stack.push(p);
        continue;
      }
      if (next.kind === "absent") {
        if (!create) return undefined;
        Deno.mkdirSync(next.host);
        Deno.chmodSync(next.host, 0o755);
        next = this.replace(next, "dir");
        next.setgid = dir.setgid;
        this.markWritten(next);
      } else if (next.kind !== "dir") {
        if (!create) return undefined;
        throw new LayerApplyError(
          entry,
          `"${this.pathOf(next)}" is not a directory`,
        );
      }
      dir = next;
    }
    return dir;
  }

  /** Loads every child of `dir` from disk. */
  async list(dir: Node): Promise<void> {
    if (dir.complete) return;
    const children = dir.children ??= new Map();
    for await (const entry of Deno.readDir(dir.host)) {
      if (children.has(entry.name)) continue;
      const kind: Kind = entry.isDirectory
        ? "dir"
        : entry.isSymlink
        ? "symlink"
        : entry.isFile
        ? "file"
        : "other";
      children.set(
        entry.name,
        new Node(kind, entry.name, dir, `${dir.host}/${entry.name}`),
      );
    }
    dir.complete = true;
  }

  /** Every node with a fixup, deepest first. */
  fixups(): Node[] {
    const out: Node[] = [];
    const walk = (node: Node) => {
      for (const child of node.children?.values() ?? []) {
        if (child.kind === "dir") walk(child);
      }
      if (node.fixup !== undefined) out.push(node);
    };
    walk(this.root);
    return out;
  }
}
