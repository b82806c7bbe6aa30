/**
 * Applies one layer's tar stream onto a directory that already holds the
 * layers below it.
 *
 * @module
 */

import { createTarDecoder, type ParsedTarEntry } from "../../npm/modern_tar.ts";
import type { Log } from "../../log.ts";
import { runCaptured } from "../../process/spawn.ts";
import { PolytheneError } from "../../errors.ts";
import { LayerApplyError, LayerFormatError } from "./errors.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { OwnershipTable } from "./ownership.ts";
import type { LayerStats } from "./stats.ts";
import { Applier } from "./_applier.ts";
import { BodyReadError } from "./_file_body.ts";
import type { RunCaptured } from "./_special.ts";
import { TarTap } from "./_tar_tap.ts";

/** Options of {@linkcode extractLayer}. */
export interface ExtractOptions {
  /**
   * Real root: set owners (lchown), keep setuid/setgid bits, create device
   * nodes. Otherwise owners go to `ownership`, setuid/setgid bits are
   * dropped on disk, directories keep `u+rwx`, device nodes are skipped
   * with a log line.
   */
  asRoot: boolean;
  /** Caps for this layer; missing ones take {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** Verbose log (skipped devices). */
  log?: Log;
  /**
   * Unprivileged only: the image's owner table, carried from layer to
   * layer. A new one is made when absent; it is returned in the stats.
   */
  ownership?: OwnershipTable;
  /** Spawns `mknod` (default: `runCaptured` from `src/process/spawn.ts`). */
  run?: RunCaptured;
  /** Told the entries and file bytes applied so far, after each entry. */
  onEntry?: (entries: number, fileBytes: number) => void;
}

/**
 * Applies one layer (an uncompressed tar stream) onto `rootfs`.
 *
 * Every path stays inside `rootfs`: names are contained (`/x` is
 * `ROOTFS/x`) or refused (`..`), parents are resolved with symlinks read
 * relative to `rootfs`, nothing is written through a symlink, hardlinks
 * must target a non-directory inside it. Whiteouts follow the OCI layer
 * spec: `.wh.NAME` and `.wh..wh..opq` remove lower-layer content only.
 * When an entry meets something of another type, the entry wins (a
 * directory is removed with its content). Directory modes and mtimes are
 * set once the layer is done.
 *
 * Not atomic: on error `rootfs` is left half-written and the caller must
 * discard it. The stream is always consumed or cancelled.
 *
 * Permissions: `--allow-read` and `--allow-write` on `rootfs`;
 * `--allow-run=mknod` for device nodes and FIFOs; `--allow-sys=uid,gid`
 * saves an lchown per entry as root (without it every entry is chowned).
 *
 * @param stream The layer's tar bytes (see `decompressStream`).
 * @param rootfs An existing directory private to this process.
 * @returns What was applied; as non-root, the owner table.
 * @throws {LayerPathError} An entry would reach outside `rootfs`, or is an
 * invalid whiteout.
 * @throws {LayerLimitError} A cap was exceeded.
 * @throws {LayerFormatError} The tar stream is malformed, or an entry type
 * is not supported.
 * @throws {LayerApplyError} A filesystem operation failed.
 */
export async function extractLayer(
  stream: ReadableStream<Uint8Array>,
  rootfs: string,
  options: ExtractOptions,
): Promise<LayerStats> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const ownership = options.asRoot
    ? undefined
    : options.ownership ?? new OwnershipTable();
  const tap = new TarTap(limits.maxExpandedBytes);
  let root: string;
  try {
    root = await Deno.realPath(rootfs);
    if (!(await Deno.lstat(root)).isDirectory) {
      throw new Error("not a directory");
    }
  } catch (error) {
    await stream.cancel().catch(() => {});
    throw new LayerApplyError(".", `rootfs "${rootfs}" is unusable`, error);
  }
  const applier = new Applier(root, {
    asRoot: options.asRoot,
    limits,
    log: options.log ?? (() => {}),
    ownership,
    run: options.run ?? runCaptured,
  });
  // The source is read by hand: its own errors (a digest check failing at
  // the end, the network) are told apart from the decoder's, and on failure
  // it is cancelled before this function returns.
  const source = stream.getReader();
  let upstream: unknown = undefined;
  const tapped = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await source.read();
      } catch (error) {
        upstream = error;
        throw error;
      }
      if (next.done) {
        // Ended between members without the two zero blocks that close an
        // archive (or empty): Go's reader takes that as the end, so does
        // this. The decoder, being strict, gets the blocks it expects.
        if (tap.atBoundary()) controller.enqueue(new Uint8Array(1024));
        return controller.close();
      }
      controller.enqueue(tap.take(next.value));
    },
    cancel: (reason) => source.cancel(reason),
  }, { highWaterMark: 0 });
  const reader = tapped
    .pipeThrough(createTarDecoder({ strict: true }))
    .getReader();
  const streamError = (error: unknown) =>
    error === upstream ? error : decoderError(error);
  try {
    for (;;) {
      let next: ReadableStreamReadResult<ParsedTarEntry>;
      try {
        next = await reader.read();
      } catch (error) {
        throw streamError(error);
      }
      if (next.done) break;
      const name = next.value.header.name;
      try {
        await applier.apply(next.value, tap.shift());
        options.onEntry?.(applier.stats.entries, applier.stats.fileBytes);
      } catch (error) {
        if (error instanceof BodyReadError) throw streamError(error.cause);
        throw applyError(error, name);
      }
    }
    await applier.finish();
  } catch (error) {
    await applier.settle();
    const failure = error instanceof PolytheneError || error === upstream
      ? error
      : applyError(error, ".");
    await source.cancel(failure).catch(() => {});
    await reader.cancel(failure).catch(() => {});
    throw failure;
  }
  return { ...applier.stats, tarBytes: tap.bytes, ownership };
}

/**
 * An error of the decoder: its own (plain `Error`s about the archive)
 * become a {@linkcode LayerFormatError}; typed ones (a cap) pass through.
 */
function decoderError(error: unknown): unknown {
  if (error instanceof Error && error.constructor === Error) {
    return new LayerFormatError(
      `tar: ${error.message.replace(/\.$/, "")}`,
      error,
    );
  }
  return error;
}

/** An error while applying `entry`, as a {@linkcode LayerApplyError}. */
function applyError(error: unknown, entry: string): unknown {
  if (error instanceof PolytheneError) return error;
  if (error instanceof Deno.errors.NotCapable) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LayerApplyError(entry, message, error);
}
