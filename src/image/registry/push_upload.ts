/**
 * One blob to a registry, by the OCI distribution push flow:
 *
 * 1. `HEAD /blobs/DIGEST`: a blob the registry has is skipped.
 * 2. `POST /blobs/uploads/?mount=DIGEST&from=REPO` when the base came from
 *    another repository of the same registry: `201` means mounted, nothing
 *    sent; `202` is an ordinary upload session.
 * 3. A blob up to one chunk: one `PUT ?digest=` with the bytes
 *    (monolithic). A larger one: `PATCH` chunks with `Content-Range`, then
 *    an empty `PUT ?digest=`.
 * 4. After a connection reset or a 5xx in the middle, `GET` the upload's
 *    status and continue from the registry's `Range`; when the registry
 *    has lost the session, start a new one. Bounded by the policy's
 *    `maxResumes` in a row without progress.
 *
 * The registry checks the digest of what it received: a refused `PUT` is
 * reported as such (the local blob, or something between, changed the
 * bytes), never retried.
 *
 * @module
 */

import type { Descriptor } from "../types.ts";
import type { PushConnection } from "./push_connection.ts";
import {
  type Chunk,
  chunksOf,
  contentRange,
  uploadedBytes,
  uploadUrl,
} from "./push_plan.ts";
import { RegistryError } from "./registry_error.ts";
import { isRetryableStatus } from "./retry.ts";
import { backoffDelay } from "./retry.ts";
import { describeNetworkError, statusError } from "./_http.ts";

/** The default chunk: 16 MiB. A blob up to this size goes in one PUT. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

/** The bytes of one blob, read a range at a time. */
export interface BlobSource {
  /** The blob's descriptor. */
  descriptor: Descriptor;
  /** Reads `[start, end)`. */
  read(start: number, end: number): Promise<Uint8Array<ArrayBuffer>>;
}

/** What happened to a blob. */
export type BlobOutcome = "exists" | "mounted" | "uploaded";

/** Options of {@linkcode uploadBlob}. */
export interface UploadOptions {
  /** Try a cross-repository mount from this repository first. */
  mountFrom?: string;
  /** Chunk size; default {@linkcode DEFAULT_CHUNK_BYTES}. */
  chunkBytes?: number;
  /**
   * Told the bytes the registry holds so far, after each chunk or PUT it
   * accepted (lower again after a resume from an earlier offset).
   */
  onSent?: (bytes: number) => void;
}

/** A failure in the middle of an upload that a resume may fix. */
class Interrupted extends Error {}

/**
 * Makes sure the registry holds `blob` in the connection's repository.
 *
 * @returns whether it was there, mounted or uploaded
 * @throws {RegistryError} when the registry refuses the blob or the
 * upload cannot go on
 */
export async function uploadBlob(
  connection: PushConnection,
  blob: BlobSource,
  options: UploadOptions = {},
): Promise<BlobOutcome> {
  const { digest } = blob.descriptor;
  const label = `blob ${digest}`;
  const head = await connection.request(connection.url(`blobs/${digest}`), {
    method: "HEAD",
  });
  await head.body?.cancel();
  if (head.status === 200) {
    connection.log(`${label}: the registry has it; skipped`);
    return "exists";
  }
  if (head.status !== 404) {
    throw await statusError(connection.image, head, label);
  }

  let start = await startUpload(connection, digest, options.mountFrom);
  if (start === "mounted") {
    connection.log(`${label}: mounted from ${options.mountFrom}`);
    return "mounted";
  }
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const size = blob.descriptor.size;
  const sent = options.onSent ?? (() => {});
  let location = start;
  let offset = 0;
  let stuck = 0;
  let resumes = 0;
  while (true) {
    try {
      if (size <= chunkBytes && offset === 0) {
        const url = uploadUrl(location, connection.base, digest);
        await finish(connection, url, label, await blob.read(0, size));
      } else {
        for (const chunk of chunksOf(size, offset, chunkBytes)) {
          location = await sendChunk(connection, location, chunk, blob, label);
          offset = chunk.end;
          sent(offset);
        }
        await finish(
          connection,
          uploadUrl(location, connection.base, digest),
          label,
        );
      }
      sent(size);
      return "uploaded";
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      resumes++;
      const before = offset;
      const cause = error.cause;
      // The registry may have it all already (the answer to the last PUT
      // was lost): a HEAD says.
      const again = await connection.request(
        connection.url(`blobs/${digest}`),
        { method: "HEAD" },
      );
      await again.body?.cancel();
      if (again.status === 200) {
        sent(size);
        return "uploaded";
      }
      const status = await uploadStatus(connection, location, size);
      if (status === undefined) {
        start = await startUpload(connection, digest, undefined);
        if (start === "mounted") return "mounted";
        location = start;
        offset = 0;
      } else {
        location = status.location;
        offset = status.offset;
      }
      sent(offset);
      stuck = offset > before ? 0 : stuck + 1;
      const limit = connection.policy.maxResumes;
      if (stuck > limit || resumes > limit * 10) {
        throw new RegistryError(
          connection.image,
          `${label}: the upload was interrupted ${resumes} times, at ${offset} of ${size} bytes: ${
            describeNetworkError(cause).text
          }`,
          { kind: "network", retryable: true, cause },
        );
      }
      const delay = backoffDelay(Math.max(1, stuck), connection.policy);
      connection.log(
        `${label}: upload interrupted (${
          describeNetworkError(cause).text
        }); resuming at ${offset} of ${size} bytes in ${delay} ms`,
      );
      await connection.sleep(delay);
    }
  }
}

/** Opens an upload session (or mounts): its Location, or `mounted`. */
async function startUpload(
  connection: PushConnection,
  digest: string,
  mountFrom: string | undefined,
): Promise<string | "mounted"> {
  const url = connection.url("blobs/uploads/");
  if (mountFrom !== undefined) {
    url.searchParams.set("mount", digest);
    url.searchParams.set("from", mountFrom);
  }
  const response = await connection.request(url, { method: "POST" });
  await response.body?.cancel();
  if (mountFrom !== undefined && response.status === 201) return "mounted";
  if (response.status !== 202) {
    throw await statusError(connection.image, response, "starting an upload");
  }
  const location = response.headers.get("location");
  if (location === null || location === "") {
    throw new RegistryError(
      connection.image,
      "the registry started an upload without a Location",
      { kind: "protocol", status: 202 },
    );
  }
  return location;
}

/** PATCHes one chunk; returns the upload's next Location. */
async function sendChunk(
  connection: PushConnection,
  location: string,
  chunk: Chunk,
  blob: BlobSource,
  label: string,
): Promise<string> {
  const body = await blob.read(chunk.start, chunk.end);
  const response = await attempt(() =>
    connection.request(uploadUrl(location, connection.base), {
      method: "PATCH",
      headers: {
        "content-type": "application/octet-stream",
        "content-range": contentRange(chunk),
      },
      body,
      attempts: 1,
    })
  );
  await response.body?.cancel();
  if (response.status === 202) {
    return response.headers.get("location") || location;
  }
  // 404 and 400 (upload unknown or invalid) too: Deno's fetch sends a
  // request again, once, when its connection closes before the answer, and
  // the registry refuses a chunk it already has. The status says where.
  if (
    isRetryableStatus(response.status) || response.status === 404 ||
    response.status === 400 || response.status === 416
  ) {
    throw new Interrupted(`${response.status}`, {
      cause: new Error(`the registry answered ${response.status}`),
    });
  }
  throw await statusError(connection.image, response, `${label} upload`);
}

/** The closing PUT; a refusal says the digest did not match. */
async function finish(
  connection: PushConnection,
  url: URL,
  label: string,
  body?: Uint8Array<ArrayBuffer>,
): Promise<void> {
  const response = await attempt(() =>
    connection.request(url, {
      method: "PUT",
      headers: body === undefined
        ? {}
        : { "content-type": "application/octet-stream" },
      body: body ?? new Uint8Array(),
      attempts: 1,
    })
  );
  if (response.status === 201 || response.status === 204) {
    await response.body?.cancel();
    return;
  }
  if (isRetryableStatus(response.status)) {
    await response.body?.cancel();
    throw new Interrupted(`${response.status}`, {
      cause: new Error(`the registry answered ${response.status}`),
    });
  }
  const error = await statusError(connection.image, response, label);
  if (response.status === 400) {
    throw new RegistryError(
      connection.image,
      `the registry refused ${label}: ${error.detail}; the bytes it received do not match the digest`,
      {
        kind: "digest",
        status: 400,
        hint:
          "The local image may be damaged: commit it again, or check what sits between this host and the registry",
      },
    );
  }
  throw error;
}

/** Where an interrupted upload stands, or undefined when it is gone. */
async function uploadStatus(
  connection: PushConnection,
  location: string,
  size: number,
): Promise<{ location: string; offset: number } | undefined> {
  const response = await connection.request(
    uploadUrl(location, connection.base),
    { method: "GET" },
  );
  await response.body?.cancel();
  if (response.status !== 204 && response.status !== 200) return undefined;
  const offset = uploadedBytes(response.headers.get("range"));
  if (offset === undefined || offset > size) return undefined;
  return {
    location: response.headers.get("location") || location,
    offset,
  };
}

/** Runs a request; a connection failure becomes {@linkcode Interrupted}. */
async function attempt(send: () => Promise<Response>): Promise<Response> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof RegistryError && error.kind === "network") {
      throw new Interrupted(error.detail, { cause: error.cause ?? error });
    }
    throw error;
  }
}
