/**
 * The content-addressed blob cache: `STORE/.polythene/blobs/ALG/HEX`. Blobs
 * are written to a temporary file and renamed into place only after their
 * digest has been verified, so a cached blob is always whole and right.
 *
 * @module
 */

import { digestOf } from "../image/registry/verify.ts";
import { stateDir } from "./store.ts";

const DIGEST = /^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$/;

/** The cache of one store, as used by one pull. */
export class BlobCache {
  readonly #root: string;
  readonly #owner: string;

  /**
   * @param store The store root.
   * @param owner The pull's staging UUID: it names this pull's unfinished
   * files (`HEX.OWNER.tmp`), so a sweep can remove a dead pull's leftovers.
   */
  constructor(store: string, owner: string) {
    this.#root = `${stateDir(store)}/blobs`;
    this.#owner = owner;
  }

  /** The path of `digest` in the cache; undefined for a malformed digest. */
  path(digest: string): string | undefined {
    const match = DIGEST.exec(digest);
    return match ? `${this.#root}/${match[1]}/${match[2]}` : undefined;
  }

  /** Whether a blob of that size is cached (a `stat`, no digest check). */
  async has(digest: string, size: number | undefined): Promise<boolean> {
    const path = this.path(digest);
    if (path === undefined) return false;
    try {
      const info = await Deno.stat(path);
      return info.isFile && (size === undefined || info.size === size);
    } catch {
      return false;
    }
  }

  /** Opens a cached blob of the right size, or returns undefined. */
  async open(
    digest: string,
    size: number | undefined,
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    const path = this.path(digest);
    if (path === undefined) return undefined;
    try {
      const file = await Deno.open(path);
      const info = await file.stat();
      if (size !== undefined && info.size !== size) {
        file.close();
        return undefined;
      }
      return file.readable;
    } catch {
      return undefined;
    }
  }

  /** A small cached blob's bytes, when present and matching its digest. */
  async get(
    descriptor: { digest: string; size: number },
  ): Promise<Uint8Array | undefined> {
    const path = this.path(descriptor.digest);
    if (path === undefined) return undefined;
    try {
      const bytes = await Deno.readFile(path);
      if (bytes.length !== descriptor.size) return undefined;
      return digestOf(bytes, descriptor.digest.split(":")[0]) ===
          descriptor.digest
        ? bytes
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keeps a small blob that was verified against its digest. */
  async put(
    descriptor: { digest: string },
    bytes: Uint8Array,
  ): Promise<void> {
    const writer = await this.writer(descriptor.digest).catch(() => undefined);
    if (writer === undefined) return;
    try {
      await new Blob([bytes as BlobPart]).stream().pipeTo(writer.writable);
      await writer.commit();
    } catch {
      await writer.abort();
    }
  }

  /**
   * Starts writing `digest`. The caller streams the (verified) blob into
   * `writable`, then calls `commit()`; `abort()` drops it.
   */
  async writer(digest: string): Promise<BlobWriter | undefined> {
    const path = this.path(digest);
    if (path === undefined) return undefined;
    const dir = path.slice(0, path.lastIndexOf("/"));
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${this.#owner}.tmp`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(tmp, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
    } catch (error) {
      // The same blob twice in one image: the first copy caches it.
      if (error instanceof Deno.errors.AlreadyExists) return undefined;
      throw error;
    }
    return {
      writable: file.writable,
      commit: () => Deno.rename(tmp, path),
      abort: async () => {
        try {
          file.close();
        } catch { /* already closed by the stream */ }
        await Deno.remove(tmp).catch(() => {});
      },
    };
  }
}

/**
 * Removes the unfinished blob files of the pulls named by `owners` (staging
 * UUIDs): a dead pull's, found by the staging sweep, or this pull's own after
 * an interruption, whose streams may not have cleaned up before exit. Call it
 * only when none of those pulls is still writing.
 */
export async function removeTemporaries(
  store: string,
  owners: readonly string[],
): Promise<void> {
  if (owners.length === 0) return;
  const root = `${stateDir(store)}/blobs`;
  const names = new Set(owners);
  for (const algorithm of ["sha256", "sha512"]) {
    try {
      for await (const entry of Deno.readDir(`${root}/${algorithm}`)) {
        const owner = /^[0-9a-f]+\.(.+)\.tmp$/.exec(entry.name)?.[1];
        if (owner === undefined || !names.has(owner)) continue;
        await Deno.remove(`${root}/${algorithm}/${entry.name}`).catch(() => {});
      }
    } catch {
      // No such directory: nothing was cached with this algorithm.
    }
  }
}

/** A blob being written into the cache. */
export interface BlobWriter {
  /** Where the blob's bytes go; closing it closes the file. */
  writable: WritableStream<Uint8Array>;
  /** Publishes the blob under its digest. */
  commit(): Promise<void>;
  /** Drops the partial file. */
  abort(): Promise<void>;
}
