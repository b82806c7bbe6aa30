/**
 * `polythene exec [options] UUID -- CMD [ARG...]`
 *
 * @module
 */

import { execInEntry } from "../exec/exec.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { isolationValue, stringValue, timeoutSeconds } from "./values.ts";

/** Runs the `exec` command; returns the process exit code. */
export async function execCommand(
  values: OptionValues,
  positionals: string[],
  rest: string[],
): Promise<number> {
  return await execInEntry({
    store: stringValue(values, "store"),
    uuid: positionals[0]!,
    argv: rest,
    isolation: isolationValue(values),
    timeoutSeconds: timeoutSeconds(values, "exec"),
    hostEnv: (name) => Deno.env.get(name),
    log: createLog(values.verbose === true),
  });
}
