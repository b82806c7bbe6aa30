/**
 * Owner and mode decisions for one layer. As root, owners are set on disk
 * (lchown, then chmod, since chown clears setuid/setgid). Otherwise they
 * are recorded in the {@linkcode OwnershipTable}, setuid/setgid bits are
 * dropped on disk (a setuid file owned by the pulling user would run as
 * that user for anyone who can reach it) and directories keep `u+rwx`.
 *
 * @module
 */

import type { OwnerRecord, OwnershipTable } from "./ownership.ts";
import type { Node, RootTree } from "./_tree.ts";

/** The decoded facts of one entry. */
export interface EntryMeta {
  /** The name as stored in the archive. */
  name: string;
  /** Permission bits (0o7777). */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Modification time, when valid. */
  mtime?: Date;
}

/** Owner policy of one extraction. */
export class Owners {
  readonly #asRoot: boolean;
  readonly #table: OwnershipTable | undefined;
  readonly #tree: RootTree;
  readonly #uid = processId("uid");
  readonly #gid = processId("gid");

  constructor(
    asRoot: boolean,
    table: OwnershipTable | undefined,
    tree: RootTree,
  ) {
    this.#asRoot = asRoot;
    this.#table = table;
    this.#tree = tree;
  }

  /** The mode to put on disk for an entry with `mode`. */
  diskMode(mode: number, dir: boolean): number {
    if (this.#asRoot) return mode;
    return (dir ? mode | 0o700 : mode) & ~0o6000;
  }

  /**
   * The owner to set as root; undefined when not root, or when a new entry
   * under `parent` gets it anyway (known process uid/gid, no setgid).
   */
  chown(m: EntryMeta, parent: Node): { uid: number; gid: number } | undefined {
    if (!this.#asRoot) return undefined;
    if (m.uid === this.#uid && m.gid === this.#gid && !parent.setgid) {
      return undefined;
    }
    return { uid: m.uid, gid: m.gid };
  }

  /** Records what the image says about `node` when the disk differs. */
  record(node: Node, m: EntryMeta, diskMode: number): void {
    if (this.#table === undefined) return;
    const differs = m.uid !== 0 || m.gid !== 0 || diskMode !== m.mode;
    const record: OwnerRecord | undefined = differs
      ? { uid: m.uid, gid: m.gid, mode: m.mode }
      : undefined;
    this.#table.set(this.#tree.pathOf(node), record);
  }

  /** Records a device node that was not created. */
  device(node: Node, m: EntryMeta, device: OwnerRecord["device"]): void {
    this.#table?.set(this.#tree.pathOf(node), {
      uid: m.uid,
      gid: m.gid,
      mode: m.mode,
      device,
    });
  }

  /** A hardlink shares its target's record. */
  link(node: Node, target: Node): void {
    this.#table?.set(
      this.#tree.pathOf(node),
      this.#table.get(this.#tree.pathOf(target)),
    );
  }

  /** Forgets `node` and everything under it. */
  forget(node: Node): void {
    this.#table?.deleteTree(this.#tree.pathOf(node));
  }
}

/** The process's uid or gid, if `--allow-sys` grants it (never prompts). */
function processId(which: "uid" | "gid"): number | undefined {
  try {
    const { state } = Deno.permissions.querySync({ name: "sys", kind: which });
    if (state !== "granted") return undefined;
    return (which === "uid" ? Deno.uid() : Deno.gid()) ?? undefined;
  } catch {
    return undefined;
  }
}
