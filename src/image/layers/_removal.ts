/**
 * Removing paths: replacing an entry of another type (the later layer
 * wins) and whiteouts, which remove only what lower layers left (OCI image
 * spec: a whiteout never hides an entry of its own layer, whatever the
 * order of the two in the archive).
 *
 * @module
 */

import type { Owners } from "./_owners.ts";
import type { Kind, Node, RootTree } from "./_tree.ts";

/** Removal within one layer's tree. */
export class Remover {
  readonly #tree: RootTree;
  readonly #owners: Owners;
  readonly #before: () => Promise<void>;

  /**
   * @param before Called before anything is removed or listed from disk:
   * waits for queued writes (see `_pool.ts`).
   */
  constructor(tree: RootTree, owners: Owners, before: () => Promise<void>) {
    this.#tree = tree;
    this.#owners = owners;
    this.#before = before;
  }

  /**
   * Makes way for a new entry of `kind` at `node`: removes whatever is
   * there (a directory with all its content) and returns the new node,
   * marked as written by this layer.
   */
  async clear(node: Node, kind: Kind): Promise<Node> {
    if (node.kind !== "absent") await this.remove(node);
    const fresh = this.#tree.replace(node, kind);
    this.#tree.markWritten(fresh);
    return fresh;
  }

  /** Removes `node` from disk (recursively) and from the tree. */
  async remove(node: Node): Promise<void> {
    if (node.kind === "absent") return;
    await this.#before();
    if (node.kind === "dir") await Deno.remove(node.host, { recursive: true });
    else Deno.removeSync(node.host);
    this.#owners.forget(node);
    this.#tree.replace(node, "absent").complete = false;
  }

  /** `.wh.NAME`: removes `node` unless this layer wrote it or under it. */
  async removeLower(node: Node): Promise<void> {
    if (node.kind === "absent") return;
    if (!node.written && !node.hasWritten) return await this.remove(node);
    if (node.kind === "dir") await this.removeLowerIn(node);
  }

  /** `.wh..wh..opq`: empties `dir` of what lower layers put there. */
  async removeLowerIn(dir: Node): Promise<void> {
    if (dir.kind !== "dir") return;
    await this.#before();
    await this.#tree.list(dir);
    for (const child of [...dir.children!.values()]) {
      await this.removeLower(child);
    }
  }
}
