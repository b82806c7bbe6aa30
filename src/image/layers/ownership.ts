/**
 * What the image says about owners and modes that an unprivileged
 * extraction could not put on disk. The pull stores it in the entry's
 * metadata, so that owners survive without root.
 *
 * @module
 */

/** Owner and mode of one path, as the image has them. */
export interface OwnerRecord {
  /** Owner uid from the tar header. */
  uid: number;
  /** Owner gid from the tar header. */
  gid: number;
  /** Permission bits from the header, including setuid/setgid/sticky. */
  mode: number;
  /** Set for a device node, which was not created. */
  device?: { type: "char" | "block"; major: number; minor: number };
}

interface TrieNode {
  record?: OwnerRecord;
  children?: Map<string, TrieNode>;
}

/**
 * Owner records by absolute in-rootfs path (`/usr/bin/passwd`), across all
 * layers of one image: a later layer's record replaces an earlier one, and
 * removing a path (whiteout, type change) removes the records under it.
 *
 * Contract: a path without a record is owned by 0:0 and has on disk the
 * mode the image gives it. A record exists when the image's owner is not
 * 0:0, when the mode on disk differs (setuid/setgid bits dropped,
 * directories kept `u+rwx`), or for a device node that was skipped.
 */
export class OwnershipTable {
  #root: TrieNode = {};
  #size = 0;

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /** Sets (or, with `undefined`, clears) the record of `path`. */
  set(path: string, record: OwnerRecord | undefined): void {
    const parts = split(path);
    let node = this.#root;
    for (const part of parts) {
      if (record === undefined && !node.children?.has(part)) return;
      node.children ??= new Map();
      let next = node.children.get(part);
      if (next === undefined) node.children.set(part, next = {});
      node = next;
    }
    if (node.record !== undefined) this.#size--;
    if (record !== undefined) this.#size++;
    node.record = record;
  }

  /** The record of `path`, if any. */
  get(path: string): OwnerRecord | undefined {
    let node: TrieNode | undefined = this.#root;
    for (const part of split(path)) {
      node = node.children?.get(part);
      if (node === undefined) return undefined;
    }
    return node.record;
  }

  /** Removes the records of `path` and of everything under it. */
  deleteTree(path: string): void {
    const parts = split(path);
    const last = parts.pop();
    if (last === undefined) {
      this.#root = {};
      this.#size = 0;
      return;
    }
    let node: TrieNode | undefined = this.#root;
    for (const part of parts) {
      node = node.children?.get(part);
      if (node === undefined) return;
    }
    const gone = node.children?.get(last);
    if (gone === undefined) return;
    node.children!.delete(last);
    this.#size -= count(gone);
  }

  /** All records, sorted by path: the form stored in metadata. */
  toJSON(): Record<string, OwnerRecord> {
    const out: Record<string, OwnerRecord> = {};
    const walk = (node: TrieNode, path: string) => {
      if (node.record !== undefined) out[path || "/"] = node.record;
      const names = [...(node.children?.keys() ?? [])].sort();
      for (const name of names) {
        walk(node.children!.get(name)!, `${path}/${name}`);
      }
    };
    walk(this.#root, "");
    return out;
  }
}

function split(path: string): string[] {
  return path.split("/").filter((p) => p !== "");
}

function count(node: TrieNode): number {
  let n = node.record === undefined ? 0 : 1;
  for (const child of node.children?.values() ?? []) n += count(child);
  return n;
}
