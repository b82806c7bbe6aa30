/**
 * `polythene clone UUID`: copies an entry; prints the new UUID.
 *
 * @module
 */

import { cloneEntry } from "../store/clone.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/** Runs `clone`; returns the exit code. */
export async function cloneCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const clone = await cloneEntry(
    stringValue(values, "store"),
    positionals[0]!,
    {
      hostPath: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    },
  );
  console.log(clone.uuid);
  return 0;
}
