/**
 * The layer-stack cache: an unpacked copy of each layer stack this store
 * has extracted twice, so that the next pull of it is a tree copy instead
 * of an extraction (see `copy_tree.ts`).
 *
 * Layout, under `STORE/.polythene/stacks/` (mode 0700, like the rest of the
 * state directory; a stack holds setuid files and must stay private):
 *
 * - `KEY/rootfs/`: the unpacked layers; `KEY/stack.json`: what the pull
 *   reports about them ({@linkcode StackRecord}).
 * - `KEY.lock`: `flock`ed shared while a pull copies the stack, exclusive
 *   while prune removes it.
 * - `KEY.seen`: a marker written by the first extraction of a stack. The
 *   second one builds the stack, so a pull of an image used once pays no
 *   extra copy.
 * - `KEY.OWNER.tmp/`: a stack being built by the pull whose staging UUID is
 *   OWNER; renamed to `KEY` when whole.
 *
 * KEY is `root-HEX` or `user-HEX` (owners are applied differently with and
 * without root), HEX the OCI ChainID of the stack: the chain of its diff_ids.
 * A stack is owned by the blob cache's pruning rules: prune removes it (and
 * its marker) once no remaining entry refers to all of its layers.
 *
 * @module
 */

import { spreadEntries } from "./spread.ts";
import { stateDir } from "./store.ts";
import { removeTree } from "./staging.ts";

/** What a stack's extraction reported; stored as `KEY/stack.json`. */
export interface StackRecord {
  schema: 1;
  /** The layer blob digests, bottom first (what prune looks at). */
  layers: string[];
  /** Bytes of regular-file content. */
  fileBytes: number;
  /** Uncompressed tar bytes of all layers (for the pull's caps). */
  tarBytes: number;
  /** Tar entries of all layers (for the pull's caps). */
  entries: number;
  /** Device nodes skipped (unprivileged pulls). */
  skippedDevices: number;
  /** Unprivileged pulls: the owner table, as entry metadata stores it. */
  ownership?: Record<string, unknown>;
}

const DIFF_ID = /^sha256:[a-f0-9]{64}$/;
const KEY = /^(root|user)-[a-f0-9]{64}$/;

/**
 * The stack key of `diffIds` (bottom first): `root-` or `user-` and the
 * hex of the OCI ChainID. Undefined for an empty stack or a diff_id that
 * is not sha256.
 */
export async function stackKey(
  diffIds: readonly string[],
  asRoot: boolean,
): Promise<string | undefined> {
  if (diffIds.length === 0 || !diffIds.every((d) => DIFF_ID.test(d))) {
    return undefined;
  }
  let chain = diffIds[0]!;
  for (const diffId of diffIds.slice(1)) {
    const bytes = new TextEncoder().encode(`${chain} ${diffId}`);
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    chain = `sha256:${
      Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
  }
  return `${asRoot ? "root" : "user"}-${chain.slice("sha256:".length)}`;
}

/** `STORE/.polythene/stacks`. */
export function stacksDir(store: string): string {
  return `${stateDir(store)}/stacks`;
}

/** A stack held for copying: release the lock when done. */
export interface HeldStack {
  rootfs: string;
  record: StackRecord;
  release(): void;
}

/** The stacks of one store. */
export class LayerStacks {
  readonly #dir: string;

  constructor(store: string) {
    this.#dir = stacksDir(store);
  }

  /** Opens stack `key` under a shared lock; undefined when not cached. */
  async open(key: string): Promise<HeldStack | undefined> {
    if (!KEY.test(key)) return undefined;
    const exists = await Deno.lstat(`${this.#dir}/${key}`).then(
      (info) => info.isDirectory,
      () => false,
    );
    if (!exists) return undefined;
    const lock = await this.#lockFile(key);
    await lock.lock(false);
    try {
      const text = await Deno.readTextFile(`${this.#dir}/${key}/stack.json`);
      const record = JSON.parse(text) as StackRecord;
      const rootfs = `${this.#dir}/${key}/rootfs`;
      if (record.schema !== 1 || !(await Deno.lstat(rootfs)).isDirectory) {
        throw new Error("not a stack");
      }
      return { rootfs, record, release: () => lock.close() };
    } catch {
      lock.close();
      return undefined;
    }
  }

  /** Whether stack `key` was extracted before (its marker exists). */
  async seen(key: string): Promise<boolean> {
    return await Deno.lstat(`${this.#dir}/${key}.seen`).then(
      (info) => info.isFile,
      () => false,
    );
  }

  /** Writes the marker of stack `key`: the layer digests, for prune. */
  async markSeen(key: string, layers: readonly string[]): Promise<void> {
    await this.#mkdir();
    await Deno.writeTextFile(
      `${this.#dir}/${key}.seen`,
      JSON.stringify({ schema: 1, layers }),
      { mode: 0o600 },
    );
  }

  /**
   * Makes `KEY.OWNER.tmp/rootfs`, where the stack is extracted; returns
   * it. {@linkcode commit} publishes it; {@linkcode removeTemporaries}
   * drops it.
   */
  async begin(key: string, owner: string): Promise<string> {
    await this.#mkdir();
    const tmp = `${this.#dir}/${key}.${owner}.tmp`;
    await Deno.mkdir(tmp, { mode: 0o700 });
    await Deno.mkdir(`${tmp}/rootfs`, { mode: 0o755 });
    return `${tmp}/rootfs`;
  }

  /**
   * Publishes the stack built by `owner` as `key` (one rename). When
   * another pull published it first, this copy is removed.
   */
  async commit(key: string, owner: string, record: StackRecord) {
    const tmp = `${this.#dir}/${key}.${owner}.tmp`;
    await Deno.writeTextFile(`${tmp}/stack.json`, JSON.stringify(record), {
      mode: 0o600,
    });
    const lock = await this.#lockFile(key);
    try {
      await lock.lock(true);
      await Deno.rename(tmp, `${this.#dir}/${key}`);
    } catch {
      await removeTree(tmp);
    } finally {
      lock.close();
    }
  }

  /** Removes the stacks being built by the pulls named by `owners`. */
  async removeTemporaries(owners: readonly string[]): Promise<void> {
    if (owners.length === 0) return;
    const names = new Set(owners);
    for (const name of await this.#names()) {
      const owner = /^[a-z]+-[a-f0-9]{64}\.(.+)\.tmp$/.exec(name)?.[1];
      if (owner !== undefined && names.has(owner)) {
        await removeTree(`${this.#dir}/${name}`).catch(() => {});
      }
    }
  }

  /**
   * Prune's part: removes (or, dry, counts) the stacks and markers whose
   * layers are not all in `referenced`, skipping stacks in use, and the
   * unfinished stacks of pulls not in `live`.
   *
   * @param referenced Layer digests remaining entries refer to, or
   * undefined to keep every stack (an entry does not say what it uses).
   */
  async sweep(
    referenced: ReadonlySet<string> | undefined,
    live: ReadonlySet<string>,
    dryRun: boolean,
  ): Promise<number> {
    let removed = 0;
    for (const name of await this.#names()) {
      const path = `${this.#dir}/${name}`;
      const tmp = /^[a-z]+-[a-f0-9]{64}\.(.+)\.tmp$/.exec(name);
      if (tmp !== null) {
        if (live.has(tmp[1]!)) continue;
        if (!dryRun) await removeTree(path).catch(() => {});
        continue;
      }
      if (referenced === undefined) continue;
      const seen = /^([a-z]+-[a-f0-9]{64})\.seen$/.exec(name);
      if (seen !== null) {
        if (!await usedBy(path, referenced)) {
          if (!dryRun) await Deno.remove(path).catch(() => {});
        }
        continue;
      }
      if (!KEY.test(name)) continue;
      if (await usedBy(`${path}/stack.json`, referenced)) continue;
      const lock = await this.#lockFile(name);
      try {
        if (!await lock.tryLock(true)) continue;
        if (!dryRun) {
          await removeTree(path);
          await Deno.remove(`${path}.lock`).catch(() => {});
        }
        removed++;
      } finally {
        lock.close();
      }
    }
    return removed;
  }

  async #names(): Promise<string[]> {
    try {
      return (await Array.fromAsync(Deno.readDir(this.#dir))).map((e) =>
        e.name
      );
    } catch {
      return [];
    }
  }

  async #mkdir(): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await spreadEntries(this.#dir);
  }

  async #lockFile(key: string): Promise<Deno.FsFile> {
    await this.#mkdir();
    return await Deno.open(`${this.#dir}/${key}.lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  }
}

/** Whether every layer listed in the JSON file at `path` is referenced. */
async function usedBy(
  path: string,
  referenced: ReadonlySet<string>,
): Promise<boolean> {
  try {
    const { layers } = JSON.parse(await Deno.readTextFile(path));
    return Array.isArray(layers) && layers.length > 0 &&
      layers.every((d: unknown) => typeof d === "string" && referenced.has(d));
  } catch {
    return false;
  }
}
