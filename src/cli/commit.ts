/**
 * `polythene commit UUID [REF]`: makes an image of an entry in the local
 * image store; prints the manifest digest.
 *
 * @module
 */

import { commitEntry } from "../image/commit/commit.ts";
import type { LayerCompression } from "../image/commit/layer_writer.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { listValue, optionalString, stringValue } from "./values.ts";

/** Runs `commit`; returns the exit code. */
export async function commitCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const log = createLog(values.verbose === true);
  const result = await commitEntry({
    store: stringValue(values, "store"),
    uuid: positionals[0]!,
    ref: positionals[1],
    changes: listValue(values, "change"),
    message: optionalString(values, "message"),
    compression: stringValue(values, "compression") as LayerCompression,
    log,
    warn: (message) => console.error(`polythene: warning: ${message}`),
  });
  log(
    `commit: new layer ${result.layer.digest} (${result.layer.size} bytes, ` +
      `${result.members} members${result.onBase ? " over the base" : ""})`,
  );
  console.log(result.digest);
  return 0;
}
