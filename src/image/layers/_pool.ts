/**
 * A bounded pool of file creations running on Deno's thread pool while the
 * applier goes on decoding: extraction is dominated by inode creation in
 * the kernel, and a second core can do some of it.
 *
 * Ordering, kept by the applier (see `_applier.ts`):
 * - parents before children: directories are created synchronously, in
 *   archive order, before any file under them is queued;
 * - hardlink targets before links: {@linkcode WritePool.wait} on the target;
 * - removals (whiteouts, type changes, a path written twice) after every
 *   queued write: {@linkcode WritePool.drain} first, so nothing is created
 *   under a directory being removed or replaced;
 * - directory modes and mtimes after the contents: `finish()` drains first.
 *
 * A queued write's host path is made only of directories this layer
 * resolved (no symlink in it), and nothing on it changes until the pool is
 * drained, so the write lands where the synchronous one would have.
 *
 * @module
 */

import type { Node } from "./_tree.ts";

/** Writes in flight, at most. */
export const POOL_SIZE = 8;

/** The pool of one layer. */
export class WritePool {
  readonly #size: number;
  readonly #pending = new Map<Node, Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(size = POOL_SIZE) {
    this.#size = size;
  }

  /**
   * Runs `task` for `node` once a slot is free; returns when it is queued.
   * Its failure is thrown by the next {@linkcode check}, `wait` or `drain`.
   */
  async add(node: Node, task: () => Promise<void>): Promise<void> {
    this.check();
    while (this.#pending.size >= this.#size) {
      await Promise.race(this.#pending.values());
    }
    const run = task().catch((error) => {
      this.#failure ??= { error };
    }).finally(() => this.#pending.delete(node));
    this.#pending.set(node, run);
  }

  /** Throws the first failure of a queued write, if any. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Waits for the write of `node`, when one is queued. */
  async wait(node: Node): Promise<void> {
    await this.#pending.get(node);
    this.check();
  }

  /** Waits for every queued write; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.check();
  }

  /** Waits for every queued write, ignoring failures (after an error). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) {
      await Promise.allSettled(this.#pending.values());
    }
  }
}
