/**
 * `polythene rm [--no-wait] UUID...` (alias `remove`): removes entries,
 * waiting for commands running in them unless `--no-wait`.
 *
 * @module
 */

import { createLog } from "../log.ts";
import { removeEntries } from "../store/remove.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/**
 * Runs `rm`; returns the exit code. Every UUID is validated before anything
 * is removed; then each is removed in turn, and the first failure stops.
 */
export async function rmCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  await removeEntries(stringValue(values, "store"), positionals, {
    wait: values["no-wait"] !== true,
    log: createLog(values.verbose === true),
  });
  return 0;
}
