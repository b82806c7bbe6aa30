/**
 * A pull's timeout and SIGINT/SIGTERM, turned into one abort signal and the
 * exit code to report (124, 130, 143).
 *
 * @module
 */

import { ExitCode, PolytheneError } from "../errors.ts";

/** Timeout and signals, turned into an abort and an exit code. */
export class Interruption {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #listeners: [Deno.Signal, () => void][] = [];
  #why: { code: number; text: string } | undefined;

  constructor(timeoutSeconds: number | undefined) {
    if (timeoutSeconds !== undefined) {
      this.#timer = setTimeout(
        () =>
          this.#abort(ExitCode.Timeout, `timed out after ${timeoutSeconds} s`),
        timeoutSeconds * 1000,
      );
    }
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const listener = () => this.#abort(code, `interrupted by ${signal}`);
      Deno.addSignalListener(signal, listener);
      this.#listeners.push([signal, listener]);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Settles with `work`, or rejects as soon as an interruption happens. */
  race<T>(work: Promise<T>): Promise<T> {
    const interrupted = new Promise<never>((_, reject) => {
      this.signal.addEventListener("abort", () => reject(this.signal.reason));
    });
    work.catch(() => {});
    return Promise.race([work, interrupted]);
  }

  /** The error to report when interrupted, else undefined. */
  reason(image: string): PolytheneError | undefined {
    if (this.#why === undefined) return undefined;
    return new PolytheneError(`Cannot pull "${image}": ${this.#why.text}`, {
      exitCode: this.#why.code,
    });
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const [signal, listener] of this.#listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }

  #abort(code: number, text: string): void {
    if (this.#why !== undefined) return;
    this.#why = { code, text };
    this.#controller.abort(new Error(text));
  }
}
