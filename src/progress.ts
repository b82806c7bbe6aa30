/**
 * Progress reporting, as the work sees it: a sequence of items (a layer
 * downloaded and unpacked, an entry copied, a blob pushed), each with a
 * byte counter and an entries-written counter. The work only calls a
 * {@linkcode ProgressReporter}; how it is shown (a bar on a terminal, lines
 * in a log, nothing) is the CLI's choice (`src/cli/progress.ts`). Pure
 * interface, no I/O: any layer may import it.
 *
 * @example
 * ```ts
 * import { type ProgressReporter, SILENT_PROGRESS } from "./progress.ts";
 *
 * export async function copyAll(
 *   items: { name: string; bytes: Uint8Array }[],
 *   progress: ProgressReporter = SILENT_PROGRESS,
 * ): Promise<void> {
 *   for (const [i, item] of items.entries()) {
 *     progress.start(`blob ${i + 1}/${items.length}`, item.bytes.length);
 *     progress.advance(item.bytes.length);
 *     progress.written(1, item.bytes.length);
 *     progress.end();
 *   }
 * }
 * ```
 *
 * @module
 */

/** What the work tells whoever shows its progress. Calls are sequential. */
export interface ProgressReporter {
  /**
   * An item starts: `label` names it (`layer 1/3 sha256:0123456789ab`),
   * `total` is its size in bytes when known.
   */
  start(label: string, total?: number): void;
  /** Bytes of the current item transferred so far (cumulative). */
  advance(bytes: number): void;
  /** Entries and bytes of file content written so far for the current item. */
  written(entries: number, bytes: number): void;
  /** The current item is complete (not called when it failed). */
  end(): void;
  /**
   * The current item needed no transfer and is over; `reason` says why
   * (`the registry has it`, `mounted from library/debian`). Optional: a
   * reporter without it is told {@linkcode ProgressReporter.end} instead
   * (see {@linkcode skipItem}).
   */
  skip?(reason: string): void;
}

/** Ends `progress`'s current item as skipped for `reason`. */
export function skipItem(progress: ProgressReporter, reason: string): void {
  if (progress.skip) progress.skip(reason);
  else progress.end();
}

/** A reporter that shows nothing. */
export const SILENT_PROGRESS: ProgressReporter = {
  start() {},
  advance() {},
  written() {},
  end() {},
  skip() {},
};

/**
 * A pass-through stream that tells `progress` the bytes that went through
 * it so far.
 */
export function countingStream(
  progress: ProgressReporter,
): TransformStream<Uint8Array, Uint8Array> {
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      progress.advance(bytes);
      controller.enqueue(chunk);
    },
  });
}
