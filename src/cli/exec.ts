/**
 * `polythene exec [options] UUID -- CMD [ARG...]`
 *
 * @module
 */

import { execInEntry, type ExecRequest } from "../exec/exec.ts";
import { UsageError } from "../errors.ts";
import { createLog } from "../log.ts";
import { execOptions } from "./exec_options.ts";
import { loadLazy } from "./command_modules.ts";
import type { OptionValues } from "./parse.ts";
import {
  idMapValue,
  isolationValue,
  stringValue,
  timeoutSeconds,
} from "./values.ts";

/** Runs the `exec` command; returns the process exit code. */
export async function execCommand(
  values: OptionValues,
  positionals: string[],
  rest: string[],
): Promise<number> {
  const request: ExecRequest = {
    store: stringValue(values, "store"),
    uuid: positionals[0]!,
    argv: rest,
    isolation: isolationValue(values),
    idMap: idMapValue(values),
    isolationFloor: isolationValue(values, "isolation-floor"),
    timeoutSeconds: timeoutSeconds(values, "exec"),
    hostEnv: (name) => Deno.env.get(name),
    options: execOptions(values),
    log: createLog(values.verbose === true),
  };
  if (values.ephemeral === true) {
    // Computed specifiers: a plain exec does not read these graphs.
    const { execEphemeral } = await loadLazy<
      typeof import("../exec/ephemeral.ts")
    >("ephemeral");
    const { createProgress } = await loadLazy<typeof import("./progress.ts")>(
      "progress",
    );
    // On a terminal only, and cleared before the command starts: the
    // command's stderr is the user's.
    const progress = createProgress({
      enabled: values.quiet !== true && values.verbose !== true,
      title: `copy of ${request.uuid}`,
      lines: false,
    });
    try {
      return await execEphemeral({
        ...request,
        progress: progress.visible ? progress : undefined,
      }, {
        keep: values.keep === true,
        // stdout is the command's: the UUID goes to stderr, on a line of its
        // own that scripts can match.
        onKept: (uuid) => toStderr(`polythene: kept the failed run as ${uuid}`),
      });
    } finally {
      progress.finish();
    }
  }
  if (values.keep === true) {
    throw new UsageError(
      "--keep needs --ephemeral: a plain exec changes the entry itself",
      "exec",
    );
  }
  return await execInEntry(request);
}

function toStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
