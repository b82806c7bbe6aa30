/**
 * The few assertions the tests use, on top of `node:assert/strict` (the
 * `@std/assert` package is on JSR, which cannot be reached).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string) {
  assert.deepStrictEqual(actual, expected, message);
}

/** `fn` must throw an instance of `type`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw new assert.AssertionError({
      message: `Expected ${type.name}, got ${String(error)}`,
    });
  }
  throw new assert.AssertionError({ message: `Expected ${type.name}` });
}

/** `text` must contain `part`. */
export function assertIncludes(text: string, part: string, message?: string) {
  assert.ok(
    text.includes(part),
    message ??
      `Expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}
