/**
 * `polythene push [options] UUID|REF DEST-REF`: prints the pushed
 * `REGISTRY/REPOSITORY[:TAG]@DIGEST` alone on stdout.
 *
 * @module
 */

import { pushLocalImage } from "../image/push.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { createProgress } from "./progress.ts";
import { stringValue, timeoutSeconds } from "./values.ts";

/** Runs the `push` command; returns the process exit code. */
export async function pushCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const verbose = values.verbose === true;
  const [image, dest] = [positionals[0]!, positionals[1]!];
  const progress = createProgress({
    enabled: values.quiet !== true,
    title: `push ${dest}`,
    noun: "blob",
    bar: !verbose,
  });
  try {
    const result = await pushLocalImage({
      store: stringValue(values, "store"),
      image,
      dest,
      tlsVerify: values["tls-verify"] !== false,
      timeoutSeconds: timeoutSeconds(values, "push"),
      log: createLog(verbose),
      progress,
    });
    progress.finish(true);
    console.log(result.pushed);
    return 0;
  } finally {
    progress.finish();
  }
}
