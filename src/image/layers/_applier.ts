/**
 * Applies tar entries, in archive order, onto a rootfs modelled by a
 * {@linkcode RootTree}.
 *
 * Decisions, directories, links and metadata calls are made synchronously
 * in archive order (a thread-pool hop per metadata call costs more than the
 * call). Small files, the bulk of an image's inodes, are created by a
 * bounded pool of asynchronous writes (`_pool.ts`), so that the kernel's
 * inode creation overlaps decoding; the pool's doc says what keeps that in
 * order. Large bodies are streamed asynchronously (see `_file_body.ts`).
 *
 * @module
 */

import { lchownSync, lutimesSync } from "node:fs";
import type { ParsedTarEntry } from "../../npm/modern_tar.ts";
import type { Log } from "../../log.ts";
import { escapeControl } from "../../escape.ts";
import { LayerApplyError, LayerLimitError, LayerPathError } from "./errors.ts";
import type { Limits } from "./limits.ts";
import type { OwnershipTable } from "./ownership.ts";
import { classifyEntryPath } from "./paths.ts";
import { planWhiteout } from "./whiteout.ts";
import { type LayerStats, newStats } from "./stats.ts";
import { readWhole, SMALL_FILE, writeBody } from "./_file_body.ts";
import { WritePool } from "./_pool.ts";
import { linkTarget } from "./_hardlink.ts";
import { type EntryMeta, Owners } from "./_owners.ts";
import { Remover } from "./_removal.ts";
import {
  type EntryType,
  entryType,
  mknod,
  type RunCaptured,
} from "./_special.ts";
import type { RawHeader } from "./_tar_tap.ts";
import { type Node, RootTree } from "./_tree.ts";

/** What the applier needs from `extractLayer`'s options. */
export interface ApplierOptions {
  asRoot: boolean;
  limits: Limits;
  log: Log;
  ownership: OwnershipTable | undefined;
  run: RunCaptured;
}

/** Applies the entries of one layer. */
export class Applier {
  readonly stats: LayerStats = newStats();
  readonly #tree: RootTree;
  readonly #o: ApplierOptions;
  readonly #owners: Owners;
  readonly #remover: Remover;
  readonly #pool = new WritePool();

  constructor(root: string, options: ApplierOptions) {
    this.#tree = new RootTree(root);
    this.#o = options;
    this.#owners = new Owners(options.asRoot, options.ownership, this.#tree);
    this.#remover = new Remover(
      this.#tree,
      this.#owners,
      () => this.#pool.drain(),
    );
  }

  /** Applies one entry; its body is consumed or cancelled here. */
  async apply(entry: ParsedTarEntry, raw: RawHeader | undefined) {
    const { header, body } = entry;
    const limits = this.#o.limits;
    this.#pool.check();
    if (++this.stats.entries > limits.maxEntries) {
      await body.cancel();
      throw new LayerLimitError(
        "maxEntries",
        limits.maxEntries,
        `at entry "${header.name}"`,
      );
    }
    const type = entryType(header, raw);
    const meta: EntryMeta = {
      name: header.name,
      mode: (header.mode ?? 0o644) & 0o7777,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      mtime: validDate(header.mtime),
    };
    const where = classifyEntryPath(header.name, limits);
    if (where.kind === "refused") {
      throw new LayerPathError(header.name, where.reason);
    }
    if (where.kind === "limit") {
      throw new LayerLimitError(where.limit, where.max, where.detail);
    }
    if (where.kind === "root") {
      if (type !== "dir") {
        throw new LayerPathError(
          header.name,
          "the rootfs itself can only be a directory",
        );
      }
      return this.#dirMetadata(this.#tree.root, meta);
    }
    const plan = planWhiteout(where.segments);
    if (plan.kind !== "none") {
      await body.cancel();
      if (plan.kind === "invalid") {
        throw new LayerPathError(header.name, plan.reason);
      }
      if (plan.kind === "ignore") return;
      this.stats.whiteouts++;
      const dir = await this.#tree.resolveDir(plan.dir, false, header.name);
      if (dir === undefined) return;
      if (plan.kind === "opaque") return await this.#remover.removeLowerIn(dir);
      const victim = await this.#tree.child(dir, plan.name);
      return await this.#remover.removeLower(victim);
    }
    const parent = await this.#tree.resolveDir(
      where.segments.slice(0, -1),
      true,
      header.name,
    );
    const name = where.segments[where.segments.length - 1]!;
    const existing = await this.#tree.child(parent!, name);
    switch (type) {
      case "file":
        if (header.size > limits.maxFileBytes) {
          throw new LayerLimitError(
            "maxFileBytes",
            limits.maxFileBytes,
            `"${header.name}" is ${header.size} bytes`,
          );
        }
        return await this.#file(existing, meta, body, header.size);
      case "dir":
        return await this.#dir(existing, meta);
      case "symlink":
        return await this.#symlink(existing, meta, header.linkname ?? "");
      case "hardlink":
        return await this.#hardlink(existing, meta, header.linkname ?? "");
      default:
        return await this.#special(existing, meta, type, raw!);
    }
  }

  /** Sets directory owners, modes and mtimes, once all entries are in. */
  async finish(): Promise<void> {
    await this.#pool.drain();
    for (const node of this.#tree.fixups()) {
      const fix = node.fixup!;
      if (fix.owner) lchownSync(node.host, fix.owner.uid, fix.owner.gid);
      Deno.chmodSync(node.host, fix.mode);
      if (fix.mtime) Deno.utimeSync(node.host, fix.mtime, fix.mtime);
    }
  }

  async #file(
    existing: Node,
    m: EntryMeta,
    body: ReadableStream<Uint8Array>,
    size: number,
  ) {
    const node = await this.#remover.clear(existing, "file");
    const mode = this.#owners.diskMode(m.mode, false);
    const owner = this.#owners.chown(m, node.parent);
    this.stats.files++;
    this.stats.fileBytes += size;
    this.#owners.record(node, m, mode);
    if (size > SMALL_FILE) {
      await writeBody(node.host, body, size, mode, m.mtime, m.name);
      if (owner) lchownSync(node.host, owner.uid, owner.gid);
      Deno.chmodSync(node.host, mode);
      return;
    }
    const data = await readWhole(body, size, m.name);
    await this.#pool.add(node, async () => {
      try {
        await Deno.writeFile(node.host, data, { createNew: true, mode });
        if (m.mtime) Deno.utimeSync(node.host, m.mtime, m.mtime);
        if (owner) lchownSync(node.host, owner.uid, owner.gid);
        if (owner && mode & 0o6000) Deno.chmodSync(node.host, mode);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new LayerApplyError(m.name, message, error);
      }
    });
  }

  /** Waits for queued writes after a failure, so the caller can clean up. */
  async settle(): Promise<void> {
    await this.#pool.settle();
  }

  async #dir(existing: Node, m: EntryMeta) {
    this.stats.directories++;
    let node = existing;
    if (existing.kind === "dir") {
      this.#tree.markWritten(node);
    } else {
      node = await this.#remover.clear(existing, "dir");
      Deno.mkdirSync(node.host);
      node.setgid = node.parent.setgid;
    }
    this.#dirMetadata(node, m);
  }

  #dirMetadata(node: Node, m: EntryMeta) {
    const mode = this.#owners.diskMode(m.mode, true);
    const owner = this.#owners.chown(m, node.parent);
    node.fixup = { mode, owner, mtime: m.mtime };
    this.#owners.record(node, m, mode);
  }

  async #symlink(existing: Node, m: EntryMeta, target: string) {
    if (target === "" || target.includes("\0")) {
      throw new LayerPathError(m.name, "a symlink needs a target without NUL");
    }
    if (target.length > this.#o.limits.maxNameBytes) {
      throw new LayerLimitError(
        "maxNameBytes",
        this.#o.limits.maxNameBytes,
        `the target of "${m.name}"`,
      );
    }
    const node = await this.#remover.clear(existing, "symlink");
    node.target = target;
    this.stats.symlinks++;
    this.#owners.record(node, m, m.mode);
    Deno.symlinkSync(target, node.host);
    const owner = this.#owners.chown(m, node.parent);
    if (owner) lchownSync(node.host, owner.uid, owner.gid);
    if (m.mtime) lutimesSync(node.host, m.mtime, m.mtime);
  }

  async #hardlink(existing: Node, m: EntryMeta, linkname: string) {
    const target = await linkTarget(
      this.#tree,
      this.#o.limits,
      m.name,
      linkname,
    );
    if (target === existing) return;
    await this.#pool.wait(target);
    const node = await this.#remover.clear(existing, target.kind);
    node.target = target.target;
    this.stats.hardlinks++;
    this.#owners.link(node, target);
    Deno.linkSync(target.host, node.host);
  }

  async #special(
    existing: Node,
    m: EntryMeta,
    type: EntryType,
    raw: RawHeader,
  ) {
    const device = type === "char" || type === "block";
    const node = await this.#remover.clear(existing, "other");
    if (device && !this.#o.asRoot) {
      node.kind = "absent";
      this.stats.skippedDevices++;
      this.#o.log(
        `Skipping device node "${escapeControl(m.name)}": not running as root`,
      );
      this.#owners.device(node, m, {
        type,
        major: raw.devmajor,
        minor: raw.devminor,
      });
      return;
    }
    if (device) this.stats.devices++;
    else this.stats.fifos++;
    const mode = this.#owners.diskMode(m.mode, false);
    this.#owners.record(node, m, mode);
    const flag = type === "char" ? "c" : type === "block" ? "b" : "p";
    await mknod(this.#o.run, node.host, flag, mode, raw.devmajor, raw.devminor);
    const owner = this.#owners.chown(m, node.parent);
    if (owner) lchownSync(node.host, owner.uid, owner.gid);
    Deno.chmodSync(node.host, mode);
    if (m.mtime) Deno.utimeSync(node.host, m.mtime, m.mtime);
  }
}

function validDate(date: Date | undefined): Date | undefined {
  return date !== undefined && Number.isFinite(date.getTime())
    ? date
    : undefined;
}
