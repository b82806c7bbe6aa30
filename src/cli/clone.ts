/**
 * `polythene clone UUID`: copies an entry; prints the new UUID.
 *
 * @module
 */

import { cloneEntry } from "../store/clone.ts";
import type { OptionValues } from "./parse.ts";
import { createProgress } from "./progress.ts";
import { stringValue } from "./values.ts";

/** Runs `clone`; returns the exit code. */
export async function cloneCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const progress = createProgress({
    enabled: values.quiet !== true,
    title: "clone",
    bar: values.verbose !== true,
  });
  let uuid: string;
  try {
    const clone = await cloneEntry(
      stringValue(values, "store"),
      positionals[0]!,
      {
        hostPath: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
        progress: progress.visible ? progress : undefined,
      },
    );
    uuid = clone.uuid;
  } finally {
    progress.finish();
  }
  console.log(uuid);
  return 0;
}
