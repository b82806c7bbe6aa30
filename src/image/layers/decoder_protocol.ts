/**
 * The messages between `decoder.ts` (the main thread) and
 * `decode_worker.ts`. Types only.
 *
 * @module
 */

/** Main thread to worker. */
export type ToWorker =
  | { t: "start"; job: number; mediaType: string; algorithm: string }
  | { t: "in"; job: number; bytes: Uint8Array }
  | { t: "end"; job: number }
  | { t: "credit"; job: number }
  | { t: "cancel"; job: number };

/** Worker to main thread. */
export type FromWorker =
  | { t: "took"; job: number }
  | { t: "out"; job: number; bytes: Uint8Array }
  | { t: "done"; job: number; digest: string }
  | { t: "error"; job: number; format: boolean; message: string };
