/**
 * Decompresses layers and hashes their content on a worker thread, so that
 * the main thread only parses the tar and applies it: on two cores the
 * decoding (gunzip, sha256 of the diff_id) overlaps the extraction, as
 * `gzip -d | tar -x` overlaps in two processes.
 *
 * One worker serves the layers of one pull in turn and is ended by
 * {@linkcode LayerDecoder.close}. The main thread reads the blob and hands
 * it over a few pieces at a time; the worker hands back decoded pieces only
 * as they are read (a credit of four), so a bomb never expands faster than
 * it is consumed. Errors of the blob stream (the network, its digest) pass
 * through unchanged; the decoder's become a {@linkcode LayerFormatError}.
 *
 * @module
 */

import { LayerFormatError } from "./errors.ts";
import type { FromWorker, ToWorker } from "./decoder_protocol.ts";

/** Blob pieces handed over and not yet read by the worker, at most. */
const IN_FLIGHT = 4;

/** The worker's module, from the repository root (`deno compile --include`). */
export const DECODE_WORKER_FILE = "src/image/layers/decode_worker.ts";

/** One layer being decoded. */
export interface DecodedLayer {
  /** The layer's tar bytes. */
  stream: ReadableStream<Uint8Array>;
  /** The hex digest of the tar bytes, once the stream has ended. */
  digest(): string | undefined;
}

/** A worker that decodes the layers of one pull, one after the other. */
export class LayerDecoder {
  #worker: Worker | undefined;
  #job = 0;
  #handler: ((m: FromWorker) => void) | undefined;

  /** Starts the worker. @throws when workers cannot start here. */
  constructor() {
    this.#start();
  }

  /**
   * Decodes `blob` (a layer of `mediaType`), hashing the result with
   * `algorithm`. One layer at a time: the previous one's stream must have
   * ended or been cancelled.
   */
  decode(
    mediaType: string,
    blob: ReadableStream<Uint8Array>,
    algorithm: string,
  ): DecodedLayer {
    const worker = this.#start();
    const job = ++this.#job;
    const send = (m: ToWorker, transfer: Transferable[] = []) =>
      worker.postMessage(m, transfer);
    const out: Uint8Array[] = [];
    let digest: string | undefined;
    let failure: { error: unknown } | undefined;
    let inFlight = 0;
    let wakeOut: (() => void) | undefined;
    let wakeIn: (() => void) | undefined;
    let stopped = false;
    const source = blob.getReader();
    const fail = (error: unknown) => {
      failure ??= { error };
      wakeOut?.();
    };
    this.#handler = (m) => {
      if (m.job !== job) return;
      if (m.t === "took") {
        inFlight--;
        wakeIn?.();
      } else if (m.t === "out") {
        out.push(m.bytes);
      } else if (m.t === "done") {
        digest = m.digest;
      } else {
        fail(
          new LayerFormatError(
            m.format ? m.message : `decoder: ${m.message}`,
          ),
        );
      }
      wakeOut?.();
    };
    send({ t: "start", job, mediaType, algorithm });
    const pump = async () => {
      try {
        for (;;) {
          const { done, value } = await source.read();
          if (stopped) return;
          if (done) break;
          while (inFlight >= IN_FLIGHT && !stopped) {
            await new Promise<void>((resolve) => wakeIn = resolve);
          }
          if (stopped) return;
          inFlight++;
          // The piece may be a view of a larger buffer (a node Buffer's
          // slice is a view too): hand over a copy of its own.
          const bytes = new Uint8Array(value);
          send({ t: "in", job, bytes }, [bytes.buffer]);
        }
        send({ t: "end", job });
      } catch (error) {
        fail(error);
      }
    };
    pump();
    const stop = async (reason?: unknown) => {
      if (stopped) return;
      stopped = true;
      wakeIn?.();
      send({ t: "cancel", job });
      await source.cancel(reason).catch(() => {});
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (out.length === 0 && digest === undefined && !failure) {
          await new Promise<void>((resolve) => wakeOut = resolve);
        }
        if (failure) {
          await stop(failure.error);
          controller.error(failure.error);
        } else if (out.length > 0) {
          controller.enqueue(out.shift()!);
          send({ t: "credit", job });
        } else {
          stopped = true;
          controller.close();
        }
      },
      cancel: (reason) => stop(reason),
    }, { highWaterMark: 0 });
    return { stream, digest: () => (out.length === 0 ? digest : undefined) };
  }

  /** Ends the worker; safe to call twice. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#handler = undefined;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(
      new URL("./decode_worker.ts", import.meta.url).href,
      { type: "module" },
    );
    worker.onmessage = (event: MessageEvent<FromWorker>) =>
      this.#handler?.(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      const message = event.message ?? "the decoder's worker failed";
      this.#handler?.({ t: "error", job: this.#job, format: false, message });
    };
    this.#worker = worker;
    return worker;
  }
}
