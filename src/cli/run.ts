/**
 * `polythene run [options] IMAGE -- CMD [ARG...]`: the entry IMAGE stands
 * for (pulled when the `--pull` policy says so), then `exec --ephemeral`
 * in it with the same option values, so every exec option applies.
 *
 * @module
 */

import { entryForImage, type PullPolicy } from "../image/entry_for_image.ts";
import { execCommand } from "./exec.ts";
import type { OptionValues } from "./parse.ts";
import { pullRequestOf } from "./pull.ts";

/** Runs the `run` command; returns the command's exit status. */
export async function runCommand(
  values: OptionValues,
  positionals: string[],
  rest: string[],
): Promise<number> {
  const { request, progress } = pullRequestOf(values, positionals[0]!, "run");
  let uuid: string;
  try {
    uuid = await entryForImage(request, values.pull as PullPolicy);
    progress.finish(true);
  } finally {
    progress.finish();
  }
  return await execCommand({ ...values, ephemeral: true }, [uuid], rest);
}
