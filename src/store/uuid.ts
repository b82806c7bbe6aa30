/**
 * Validation of entry names (UUIDs) before any path is built from them.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/**
 * Returns why `uuid` cannot name a store entry, or undefined when it can.
 * An entry name is one path component: not empty, no `/`, not `.` or `..`,
 * no leading `-` (it would read as an option) and no leading `.` (names that
 * start with a dot are the store's own, such as `.polythene`). Pure.
 */
export function uuidProblem(uuid: string): string | undefined {
  if (uuid === "") return "it is empty";
  if (uuid.includes("/")) return 'it contains "/"';
  if (uuid.includes("\0")) return "it contains a NUL byte";
  if (uuid === "." || uuid === "..") return "it is a relative path";
  if (uuid.startsWith("-")) return 'it starts with "-"';
  if (uuid.startsWith(".")) {
    return 'it starts with "." (reserved for the store)';
  }
  if (uuid.length > 255) return "it is longer than 255 bytes";
  return undefined;
}

/**
 * Checks `uuid` with {@linkcode uuidProblem}.
 *
 * @throws {UsageError} (exit 2) naming the problem.
 */
export function validateUuid(uuid: string): string {
  const problem = uuidProblem(uuid);
  if (problem !== undefined) {
    throw new UsageError(`Invalid UUID "${uuid}": ${problem}`);
  }
  return uuid;
}
