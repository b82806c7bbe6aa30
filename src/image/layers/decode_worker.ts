/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The layer decoder's worker: decompresses a layer blob and hashes the
 * result (the diff_id), on a thread of its own, so that the main thread
 * only parses the tar and applies it (see `decoder.ts`, which owns the
 * protocol).
 *
 * Messages in: `start` (a job: media type, hash algorithm), `in` (a piece
 * of the blob, transferred), `end`, `credit` (the reader took one decoded
 * piece), `cancel`. Messages out, each naming its job: `took` (one `in`
 * piece read), `out` (a decoded piece, transferred), `done` (the hex
 * digest), `error` (the decoder's message; `format` when the bytes are not
 * valid for their compression).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { decompressStream } from "./decompress.ts";
import { LayerFormatError } from "./errors.ts";
import type { FromWorker, ToWorker } from "./decoder_protocol.ts";

/** Decoded pieces the reader may be behind by. */
const CREDIT = 4;

interface Job {
  id: number;
  inbox: (Uint8Array | null)[];
  wake?: () => void;
  credit: number;
  creditWake?: () => void;
  cancelled: boolean;
}

let job: Job | undefined;

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  self.postMessage(message, transfer);

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.t === "start") {
    job = { id: m.job, inbox: [], credit: CREDIT, cancelled: false };
    run(job, m.mediaType, m.algorithm);
    return;
  }
  if (job === undefined || m.job !== job.id) return;
  if (m.t === "in") job.inbox.push(m.bytes);
  else if (m.t === "end") job.inbox.push(null);
  else if (m.t === "credit") job.credit++;
  else if (m.t === "cancel") job.cancelled = true;
  job.wake?.();
  job.creditWake?.();
};

async function run(j: Job, mediaType: string, algorithm: string) {
  const input = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (j.inbox.length === 0 && !j.cancelled) {
        await new Promise<void>((resolve) => j.wake = resolve);
      }
      if (j.cancelled) return controller.error(new Error("cancelled"));
      const piece = j.inbox.shift()!;
      if (piece === null) return controller.close();
      controller.enqueue(piece);
      post({ t: "took", job: j.id });
    },
  }, { highWaterMark: 0 });
  try {
    const hash = createHash(algorithm);
    const reader = decompressStream(mediaType, input).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      while (j.credit === 0 && !j.cancelled) {
        await new Promise<void>((resolve) => j.creditWake = resolve);
      }
      if (j.cancelled) {
        await reader.cancel().catch(() => {});
        return;
      }
      j.credit--;
      // node:zlib hands out views of buffers it reuses: send a copy.
      const out = new Uint8Array(value);
      post({ t: "out", job: j.id, bytes: out }, [out.buffer]);
    }
    post({ t: "done", job: j.id, digest: hash.digest("hex") });
  } catch (error) {
    if (j.cancelled) return;
    const message = error instanceof Error ? error.message : String(error);
    post({
      t: "error",
      job: j.id,
      format: error instanceof LayerFormatError,
      message: error instanceof LayerFormatError
        ? message.replace(/^Malformed layer: /, "")
        : message,
    });
  }
}
