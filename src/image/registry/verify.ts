/**
 * Content verification while it streams: digest and size, checked as the
 * bytes pass, with an immediate error on overrun (after umoci's
 * `pkg/hardening`).
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { digestProblem } from "../reference.ts";

/** What a verification failure is about. */
export type VerificationKind = "digest" | "size" | "too-large";

/** Content does not match what was expected. */
export class VerificationError extends Error {
  /** What does not match. */
  readonly kind: VerificationKind;

  constructor(kind: VerificationKind, message: string) {
    super(message);
    this.name = "VerificationError";
    this.kind = kind;
  }
}

/** Builds the error a verifier throws; lets callers name the image. */
export type VerificationErrorFactory = (
  kind: VerificationKind,
  message: string,
) => Error;

/** Splits `ALGORITHM:HEX`, checking it is a digest polythene can verify. */
export function splitDigest(
  digest: string,
): { algorithm: string; hex: string } {
  const problem = digestProblem(digest);
  if (problem !== undefined) throw new TypeError(`Invalid ${problem}`);
  const colon = digest.indexOf(":");
  return { algorithm: digest.slice(0, colon), hex: digest.slice(colon + 1) };
}

/** A new incremental hash for the algorithm of `digest` (sha256, sha512). */
export function hasherFor(digest: string): Hash {
  return createHash(splitDigest(digest).algorithm);
}

/** `ALGORITHM:HEX` of `bytes` (default sha256). */
export function digestOf(bytes: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Options of {@linkcode verifyingStream}. */
export interface VerifyOptions {
  /** Bytes before the stream's first byte (a resumed download). */
  offset?: number;
  /** The hash of those `offset` bytes; required when `offset` > 0. */
  hash?: Hash;
  /** Builds the thrown errors; default {@linkcode VerificationError}. */
  makeError?: VerificationErrorFactory;
  /** What to call the content in messages; default `blob DIGEST`. */
  label?: string;
}

/**
 * A pass-through stream that hashes and counts what flows through it. It
 * errors as soon as more than `expected.size` bytes have passed, and at the
 * end when fewer have, or when the digest differs. Chunks are passed on
 * unchanged; the consumer must treat the content as unverified until the
 * stream has closed without error.
 *
 * @throws {TypeError} when the digest is not one polythene can verify, or
 * `offset` > 0 without `hash`.
 */
export function verifyingStream(
  expected: { digest: string; size: number },
  options: VerifyOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const { algorithm } = splitDigest(expected.digest);
  const offset = options.offset ?? 0;
  if (offset > 0 && options.hash === undefined) {
    throw new TypeError("A resumed verification needs the hash of the prefix");
  }
  const hash = options.hash ?? createHash(algorithm);
  const makeError = options.makeError ??
    ((kind, message) => new VerificationError(kind, message));
  const label = options.label ?? `blob ${expected.digest}`;
  let seen = offset;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > expected.size) {
        throw makeError(
          "size",
          `${label} is larger than the ${expected.size} bytes its descriptor states`,
        );
      }
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      if (seen !== expected.size) {
        throw makeError(
          "size",
          `${label} ended after ${seen} of ${expected.size} bytes`,
        );
      }
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (actual !== expected.digest) {
        throw makeError(
          "digest",
          `${label} does not match its digest (the content is ${actual})`,
        );
      }
    },
  });
}

/**
 * Reads a whole stream into memory, refusing more than `limit` bytes as
 * soon as they arrive (the rest is not read).
 *
 * @throws the error `tooLarge()` returns when the content exceeds `limit`.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
