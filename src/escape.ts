/**
 * Escaping of text that came from outside (an image, a registry) before it
 * is printed, so that no control character reaches a terminal. Pure.
 *
 * @module
 */

/**
 * `text` with every C0 control, DEL and C1 control written as `\xNN`, so
 * an escape sequence in a file name cannot drive the terminal. Pure.
 *
 * @example
 * ```ts
 * import { escapeControl } from "./escape.ts";
 * escapeControl("a\x1b[31mb"); // "a\\x1b[31mb"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
