/**
 * `polythene pull [options] IMAGE`: prints the new UUID alone on stdout.
 *
 * @module
 */

import { escapeControlKeepLines } from "../escape.ts";
import { pullImage } from "../image/pull.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { createProgress } from "./progress.ts";
import { positiveValue, stringValue, timeoutSeconds } from "./values.ts";

/** Runs the `pull` command; returns the process exit code. */
export async function pullCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const verbose = values.verbose === true;
  const image = positionals[0]!;
  const progress = createProgress(!verbose && values.quiet !== true);
  try {
    const uuid = await pullImage({
      store: stringValue(values, "store"),
      image,
      platform: typeof values.platform === "string"
        ? values.platform
        : undefined,
      puller: values.puller === "podman" || values.puller === "auto"
        ? values.puller
        : "native",
      tlsVerify: values["tls-verify"] !== false,
      timeoutSeconds: timeoutSeconds(values, "pull"),
      limits: {
        maxImageBytes: positiveValue(values, "max-image-size", "pull", true),
        maxImageEntries: positiveValue(values, "max-image-entries", "pull"),
        maxLayers: positiveValue(values, "max-layers", "pull"),
      },
      hostEnv: (name) => Deno.env.get(name),
      log: createLog(verbose),
      warn: (message) => {
        progress.done();
        console.error(`polythene: warning: ${escapeControlKeepLines(message)}`);
      },
      onLayer: (i, n) =>
        progress.update(`pulling ${image}: layer ${i + 1}/${n}`),
    });
    progress.done();
    console.log(uuid);
    return 0;
  } finally {
    progress.done();
  }
}
