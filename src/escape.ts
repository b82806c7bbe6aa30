/**
 * Escaping text that came from an image, a registry or a file before it is
 * printed, so that it cannot drive the reader's terminal: no escape
 * sequences, no carriage returns that overwrite a line, no bells. Pure.
 *
 * ```ts
 * escapeControl("a\x1b[2Jb"); // "a\\x1b[2Jb"
 * ```
 *
 * @module
 */

/** C0 controls, DEL and the C1 controls (U+0080 to U+009F). */
// deno-lint-ignore no-control-regex -- matching controls is the point
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/** The same, except newline and tab. */
// deno-lint-ignore no-control-regex -- matching controls is the point
const CONTROLS_BUT_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * `text` with every control character escaped: C0 controls (newline and tab
 * included) and DEL as `\xNN`, C1 controls as `\u{NN}`. Everything else,
 * backslashes included, is kept. For one-line fields (a table cell, a name).
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROLS, escapeOne);
}

/**
 * {@linkcode escapeControl}, but newlines and tabs are kept: for messages
 * that may span lines.
 */
export function escapeControlKeepLines(text: string): string {
  return text.replace(CONTROLS_BUT_LINES, escapeOne);
}

/**
 * A JSON text (from `JSON.stringify`) with DEL and the C1 controls escaped as
 * `\u00NN` too; `JSON.stringify` escapes only C0. Those characters can only
 * occur inside strings, so the result is the same JSON value.
 */
export function escapeJson(json: string): string {
  return json.replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  const hex = code.toString(16).padStart(2, "0");
  return code < 0x80 ? `\\x${hex}` : `\\u{${hex}}`;
}
