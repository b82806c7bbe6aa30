/**
 * The verbose log: timestamped lines on stderr, only when enabled.
 *
 * @module
 */

/** A log sink. */
export type Log = (message: string) => void;

import { escapeControl } from "./escape.ts";

/**
 * A log that writes `TIMESTAMP polythene: MESSAGE` to stderr when enabled.
 * Messages quote image and registry data, so control characters in them are
 * escaped (newlines too: one message, one line).
 */
export function createLog(enabled: boolean): Log {
  if (!enabled) return () => {};
  const encoder = new TextEncoder();
  return (message) => {
    const line = `${new Date().toISOString()} polythene: ${
      escapeControl(message)
    }\n`;
    Deno.stderr.writeSync(encoder.encode(line));
  };
}

/**
 * Whether an environment value turns a flag such as `POLYTHENE_VERBOSE` on:
 * `1`, `true`, `yes` or `on`, in any case. Pure.
 */
export function isTrue(text: string | undefined): boolean {
  return ["1", "true", "yes", "on"].includes((text ?? "").toLowerCase());
}
