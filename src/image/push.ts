/**
 * `push`: an image of the local image store (an entry's newest commit, a
 * REF, or a manifest digest) to a registry, by the push flow of
 * `registry/push.ts`. When the image's entry was pulled from a registry,
 * the base's repository is offered for cross-repository mounts.
 *
 * Permissions: `--allow-read` of the store, `--allow-net`, `--allow-env`
 * and `--allow-run` for credential helpers, as pull.
 *
 * @module
 */

import { PolytheneError, UsageError } from "../errors.ts";
import type { Log } from "../log.ts";
import type { ProgressReporter } from "../progress.ts";
import { readMetadata } from "../store/metadata.ts";
import { Interruption } from "./interruption.ts";
import { resolveLocalImage } from "./local_images.ts";
import { parseReference } from "./reference.ts";
import { pushImage, type PushResult } from "./registry/push.ts";
import type { RetryPolicy } from "./registry/retry.ts";
import type { ImageReference } from "./types.ts";

export type { PushResult } from "./registry/push.ts";

/** What to push, and where. */
export interface PushRequest {
  /** The store root. */
  store: string;
  /** An entry's UUID (its newest commit), a REF, or `sha256:...`. */
  image: string;
  /** `HOST/REPOSITORY[:TAG]`. */
  dest: string;
  /** false allows plain http and unverified TLS. */
  tlsVerify: boolean;
  /** Give up after this many seconds (exit 124). */
  timeoutSeconds?: number;
  /** Verbose log. */
  log: Log;
  /** Told as each blob starts and ends. */
  progress?: ProgressReporter;
  /** Upload chunk size (tests); default 16 MiB. */
  chunkBytes?: number;
  /** Retry policy overrides (tests). */
  retry?: Partial<RetryPolicy>;
}

/**
 * Pushes `request.image` to `request.dest`.
 *
 * @returns the pushed digest and what happened to the blobs
 * @throws {UsageError} for a malformed DEST-REF (2);
 * {LocalImageNotFoundError} (1); {PushError} naming the destination (1);
 * 124 on timeout, 130 on SIGINT, 143 on SIGTERM
 */
export async function pushLocalImage(
  request: PushRequest,
): Promise<PushResult> {
  const dest = parseDest(request.dest);
  const local = await resolveLocalImage(request.store, request.image);
  const base = baseReference(local.base) ??
    (local.entry === undefined ? undefined : baseReference(
      (await readMetadata(request.store, local.entry))
        ?.normalized,
    ));
  if (base !== undefined) {
    request.log(`base: ${base.registry}/${base.repository}`);
  }
  const stop = new Interruption(request.timeoutSeconds);
  try {
    return await stop.race(
      pushImage(local.layout, local.manifest.digest, dest, {
        tlsVerify: request.tlsVerify,
        log: request.log,
        signal: stop.signal,
        base,
        chunkBytes: request.chunkBytes,
        retry: request.retry,
        progress: request.progress,
      }),
    );
  } catch (error) {
    const interrupted = stop.reason(request.dest);
    if (interrupted === undefined) throw error;
    throw new PolytheneError(
      interrupted.message.replace(/^Cannot pull/, "Cannot push"),
      { exitCode: interrupted.exitCode, cause: error },
    );
  } finally {
    stop.dispose();
  }
}

/** DEST-REF as a reference; a usage error names it. */
export function parseDest(text: string): ImageReference {
  try {
    return parseReference(text);
  } catch (error) {
    if (error instanceof UsageError) {
      throw new UsageError(
        error.message.replace("Invalid image reference", "Invalid DEST-REF"),
        "push",
      );
    }
    throw error;
  }
}

/** A recorded base reference, when it parses. */
function baseReference(name: string | undefined): ImageReference | undefined {
  if (name === undefined) return undefined;
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}
