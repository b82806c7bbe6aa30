/**
 * Conversions of option values shared by the commands. Pure.
 *
 * @module
 */

import { isBackendName } from "../backends/names.ts";
import type { BackendName } from "../backends/names.ts";
import { UsageError } from "../errors.ts";
import { type IdMapChoice, isIdMapChoice } from "../backends/id_map.ts";
import { parseSize } from "../image/image_limits.ts";
import type { OptionValues } from "./parse.ts";

/** `--timeout`: a positive number of seconds, or undefined when absent. */
export function timeoutSeconds(
  values: OptionValues,
  command: string,
): number | undefined {
  const raw = values.timeout;
  if (typeof raw !== "string") return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS) {
    const range = /^[-+]?\d+(\.\d+)?$/.test(raw) ? "out of range: " : "";
    throw new UsageError(
      `Invalid --timeout "${raw}": ${range}expected a positive number of seconds, ` +
        `at most ${MAX_TIMEOUT_SECONDS}`,
      command,
    );
  }
  return seconds;
}

/** The longest timeout a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/** A string option's value ("" never reaches here: the parser drops it). */
export function stringValue(values: OptionValues, name: string): string {
  const value = values[name];
  if (typeof value !== "string") throw new TypeError(`No value for ${name}`);
  return value;
}

/** `--isolation` (or `name`), already checked against the choices by the parser. */
export function isolationValue(
  values: OptionValues,
  name = "isolation",
): BackendName | undefined {
  const value = values[name];
  return typeof value === "string" && isBackendName(value) ? value : undefined;
}

/** `--id-map`, already checked against the choices by the parser. */
export function idMapValue(values: OptionValues): IdMapChoice | undefined {
  const value = values["id-map"];
  return typeof value === "string" && isIdMapChoice(value) ? value : undefined;
}

/** A repeatable option's values, in order. */
export function listValue(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : [];
}

/** A string option's value, or undefined when absent. */
export function optionalString(
  values: OptionValues,
  name: string,
): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A positive whole-number option (`--max-layers N`); `size` also takes a
 * binary suffix (`64G`).
 *
 * @throws {UsageError} when the value is not one.
 */
export function positiveValue(
  values: OptionValues,
  name: string,
  command: string,
  size = false,
): number {
  const raw = stringValue(values, name);
  const value = size
    ? parseSize(raw)
    : /^\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) > 0
    ? Number(raw)
    : undefined;
  if (value === undefined) {
    throw new UsageError(
      `Invalid --${name} "${raw}": expected a positive ${
        size ? "size (bytes, or with K, M, G, T)" : "whole number"
      }`,
      command,
    );
  }
  return value;
}
