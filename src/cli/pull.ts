/**
 * `polythene pull [options] IMAGE`: prints the new UUID alone on stdout.
 *
 * @module
 */

import { escapeControlKeepLines } from "../escape.ts";
import type { PullRequest } from "../image/pull.ts";
import { createLog } from "../log.ts";
import type { OptionValues } from "./parse.ts";
import { createProgress, type Progress } from "./progress.ts";
import { positiveValue, stringValue, timeoutSeconds } from "./values.ts";

/** Runs the `pull` command; returns the process exit code. */
export async function pullCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const { pullImage } = await import("../image/pull.ts");
  const { request, progress } = pullRequestOf(values, positionals[0]!, "pull");
  let uuid: string;
  try {
    uuid = await pullImage({ ...request, reuse: values.reuse === true });
    progress.finish(true);
  } finally {
    progress.finish();
  }
  console.log(uuid);
  return 0;
}

/**
 * The pull request and its progress display from `pull`'s option values
 * (also `run`'s, which takes them). `--timeout` is the pull's only for
 * `pull`. The caller finishes the display.
 *
 * @throws {UsageError} on a malformed option value (2).
 */
export function pullRequestOf(
  values: OptionValues,
  image: string,
  command: "pull" | "run",
): { request: PullRequest; progress: Progress } {
  const verbose = values.verbose === true;
  const progress = createProgress({
    enabled: values.quiet !== true,
    title: `pull ${image}`,
    noun: "layer",
    bar: !verbose,
  });
  const request: PullRequest = {
    store: stringValue(values, "store"),
    image,
    platform: typeof values.platform === "string" ? values.platform : undefined,
    puller: values.puller === "podman" ? "podman" : "native",
    tlsVerify: values["tls-verify"] !== false,
    timeoutSeconds: command === "pull"
      ? timeoutSeconds(values, "pull")
      : undefined,
    limits: {
      maxImageBytes: positiveValue(values, "max-image-size", command, true),
      maxImageEntries: positiveValue(values, "max-image-entries", command),
      maxLayers: positiveValue(values, "max-layers", command),
    },
    hostEnv: (name) => Deno.env.get(name),
    log: createLog(verbose),
    warn: (message) => {
      progress.pause();
      console.error(`polythene: warning: ${escapeControlKeepLines(message)}`);
    },
    progress,
    onReuse: (uuid) =>
      progress.note(`reusing entry ${uuid} (same reference and digest)`),
  };
  return { request, progress };
}
