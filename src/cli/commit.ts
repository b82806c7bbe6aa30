/**
 * `polythene commit UUID [REF]`: makes an image of an entry in the local
 * image store; prints the manifest digest. Progress (the base's layers
 * reused, the new layer's content and members as it is written) goes to
 * stderr unless `--quiet`.
 *
 * @module
 */

import { commitEntry } from "../image/commit/commit.ts";
import type { LayerCompression } from "../image/commit/layer_writer.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { createProgress } from "./progress.ts";
import { listValue, optionalString, stringValue } from "./values.ts";

/** Runs `commit`; returns the exit code. */
export async function commitCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const verbose = values.verbose === true;
  const log = createLog(verbose);
  const progress = createProgress({
    enabled: values.quiet !== true,
    title: `commit ${positionals[0]!}`,
    noun: "layer",
    bar: !verbose,
  });
  try {
    const result = await commitEntry({
      store: stringValue(values, "store"),
      uuid: positionals[0]!,
      ref: positionals[1],
      changes: listValue(values, "change"),
      message: optionalString(values, "message"),
      compression: stringValue(values, "compression") as LayerCompression,
      log,
      warn: (message) => {
        progress.pause();
        console.error(`polythene: warning: ${message}`);
      },
      progress,
    });
    progress.finish(true);
    log(
      `commit: new layer ${result.layer.digest} (${result.layer.size} bytes, ` +
        `${result.members} members${result.onBase ? " over the base" : ""})`,
    );
    console.log(result.digest);
    return 0;
  } finally {
    progress.finish();
  }
}
