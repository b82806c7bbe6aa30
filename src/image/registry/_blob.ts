/**
 * Blob downloads of the registry client: a stream verified while it flows
 * (size and digest), resumed with `Range` after a cut connection (or read
 * again from the start when the server ignores `Range`), with bounded
 * resumes. Internal to `client.ts`.
 *
 * Permissions: `--allow-net`.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import type { Log } from "../../log.ts";
import { digestProblem, formatReference } from "../reference.ts";
import type { Descriptor, ImageReference } from "../types.ts";
import { oneLine, RegistryError } from "./registry_error.ts";
import { backoffDelay, type RetryPolicy } from "./retry.ts";
import { verifyingStream } from "./verify.ts";
import type { ExchangeInit } from "./_exchange.ts";
import {
  contentLength,
  describeNetworkError,
  parseContentRange,
  readWithTimeout,
  sizeMismatch,
  statusError,
} from "./_http.ts";

/** Options of {@linkcode RegistryClient.openBlob}. */
export interface OpenBlobOptions {
  /**
   * Start at this byte (the caller has the bytes before it). Requires
   * `hash`.
   */
  offset?: number;
  /** sha256 (or the digest's algorithm) of the first `offset` bytes. */
  hash?: Hash;
  /** What to call the blob in messages (`layer`, `config`); default `blob`. */
  what?: string;
  /** Aborts the download. */
  signal?: AbortSignal;
}

/** What a blob download needs from its client. */
export interface BlobContext {
  /** Retries, resumes and the idle timeout. */
  policy: RetryPolicy;
  /** The client's abort signal. */
  signal?: AbortSignal;
  /** Verbose log. */
  log: Log;
  /** Waits. */
  sleep: (ms: number) => Promise<void>;
  /** An authorized request to `/v2/REPOSITORY/PATH` of `ref`'s registry. */
  request: (
    ref: ImageReference,
    path: string,
    init: ExchangeInit,
  ) => Promise<Response>;
}

/**
 * Opens a blob as a stream that is verified while it flows: it errors as
 * soon as more bytes arrive than `descriptor.size`, and at the end when
 * there were fewer or the digest differs. Treat the content as
 * unverified until the stream has closed without error.
 *
 * A connection cut mid-way is resumed with `Range: bytes=N-` (and a
 * server that ignores `Range` is read again from the start, skipping
 * what was already delivered), up to the policy's `maxResumes` times in
 * a row without progress.
 *
 * The caller reads the stream to its end or cancels it.
 *
 * @throws {RegistryError} when the blob cannot be opened; the stream
 * errors with a {@linkcode RegistryError} later.
 */
export async function openBlobStream(
  context: BlobContext,
  ref: ImageReference,
  descriptor: Descriptor,
  options: OpenBlobOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const image = formatReference(ref);
  const what = options.what ?? "blob";
  const label = `${what} ${descriptor.digest}`;
  const problem = digestProblem(descriptor.digest);
  if (problem !== undefined) {
    throw new RegistryError(image, `${what}: ${problem}`, {
      kind: "unsupported",
    });
  }
  const size = descriptor.size;
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RegistryError(image, `${label} has an invalid size`, {
      kind: "protocol",
    });
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
    throw new TypeError(`Invalid offset ${offset} for a ${size}-byte blob`);
  }
  const verifier = verifyingStream(descriptor, {
    offset,
    hash: options.hash,
    label,
    makeError: (kind, message) => new RegistryError(image, message, { kind }),
  });
  const signal = options.signal;
  const idle = context.policy.idleTimeoutMs;
  let delivered = offset;
  let current = await blobResponse(
    context,
    ref,
    descriptor,
    label,
    delivered,
    signal,
  );
  // Resumes in a row without a byte of progress; bounded overall too.
  let stuck = 0;
  let resumes = 0;
  let deliveredAtFailure = -1;
  const source = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      while (true) {
        let cause: unknown;
        try {
          const { done, value } = await readWithTimeout(
            current.reader,
            idle,
          );
          if (!done) {
            let chunk = value;
            if (current.skip > 0) {
              const drop = Math.min(current.skip, chunk.byteLength);
              current.skip -= drop;
              chunk = chunk.subarray(drop);
              if (chunk.byteLength === 0) continue;
            }
            delivered += chunk.byteLength;
            controller.enqueue(chunk);
            return;
          }
          if (delivered >= size && current.skip === 0) {
            controller.close();
            return;
          }
          cause = new Error("the response ended early");
        } catch (error) {
          if (signal?.aborted || context.signal?.aborted) throw error;
          cause = error;
          await current.reader.cancel().catch(() => {});
        }
        resumes++;
        stuck = delivered > deliveredAtFailure ? 1 : stuck + 1;
        deliveredAtFailure = delivered;
        const lost = describeNetworkError(cause);
        const limit = context.policy.maxResumes;
        if (stuck > limit || resumes > limit * 10) {
          throw new RegistryError(
            image,
            `${label}: the connection was lost after ${delivered} of ${size} bytes, ${
              stuck > limit
                ? `${stuck} times without progress`
                : `${resumes} times`
            }: ${lost.text}`,
            { kind: "network", retryable: true, cause },
          );
        }
        const delay = backoffDelay(stuck, context.policy);
        context.log(
          `${label}: connection lost after ${delivered} of ${size} bytes (${lost.text}); resuming in ${delay} ms`,
        );
        await context.sleep(delay);
        current = await blobResponse(
          context,
          ref,
          descriptor,
          label,
          delivered,
          signal,
        );
      }
    },
    cancel: async (reason) => {
      await current.reader.cancel(reason).catch(() => {});
    },
  });
  return source.pipeThrough(verifier);
}

/** GETs a blob from `from`, checking what the server says it sends. */
async function blobResponse(
  context: BlobContext,
  ref: ImageReference,
  descriptor: Descriptor,
  label: string,
  from: number,
  signal?: AbortSignal,
): Promise<
  { reader: ReadableStreamDefaultReader<Uint8Array>; skip: number }
> {
  const image = formatReference(ref);
  const headers: Record<string, string> = {};
  if (from > 0) headers.range = `bytes=${from}-`;
  const response = await context.request(
    ref,
    `blobs/${descriptor.digest}`,
    { headers, signal },
  );
  const size = descriptor.size;
  const length = contentLength(response);
  let skip = 0;
  if (from > 0 && response.status === 416) {
    await response.body?.cancel();
    throw new RegistryError(
      image,
      `${label} ended after ${from} of ${size} bytes (the registry has no more: 416)`,
      { kind: "size", status: 416 },
    );
  }
  if (from > 0 && response.status === 206) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range === undefined || range.start !== from) {
      await response.body?.cancel();
      throw new RegistryError(
        image,
        `${label}: the registry answered a request for bytes ${from}- with Content-Range "${
          oneLine(response.headers.get("content-range") ?? "", 80)
        }"`,
        { kind: "protocol", status: 206 },
      );
    }
    if (range.total !== undefined && range.total !== size) {
      await response.body?.cancel();
      throw sizeMismatch(image, label, range.total, size);
    }
  } else if (response.status === 200) {
    if (length !== undefined && length !== size) {
      await response.body?.cancel();
      throw sizeMismatch(image, label, length, size);
    }
    skip = from;
    if (from > 0) {
      context.log(`${label}: the server ignored Range; skipping ${from} bytes`);
    }
  } else {
    throw await statusError(image, response, label);
  }
  if (response.body === null) {
    throw new RegistryError(image, `${label}: the response has no body`, {
      kind: "protocol",
    });
  }
  return { reader: response.body.getReader(), skip };
}
