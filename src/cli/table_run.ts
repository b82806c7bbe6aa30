/**
 * `run`'s entry in the command table, derived from `exec`'s and `pull`'s
 * so that every option either command gains applies to `run` as well.
 *
 * @module
 */

import {
  type CommandSpec,
  HELP_OPTION,
  type OptionSpec,
  VERBOSE_OPTION,
} from "./table_options.ts";

/** `exec` options `run` does not take: it is always ephemeral. */
const NOT_FROM_EXEC = new Set(["ephemeral", "verbose", "help"]);

/** `pull` options `run` does not take (exec's `--timeout` is the run's). */
const NOT_FROM_PULL = new Set([
  "store",
  "timeout",
  "reuse",
  "verbose",
  "help",
]);

/** `--pull`. */
export const PULL_POLICY_OPTION: OptionSpec = {
  name: "pull",
  type: "string",
  metavar: "WHEN",
  // As PULL_POLICIES in src/image/entry_for_image.ts, which the table does
  // not import: it is on exec's start-up path.
  choices: ["missing", "always", "never"],
  default: "missing",
  help:
    "missing: pull unless an entry of IMAGE is stored; always: ask the registry for the digest first; never: only stored entries",
};

/**
 * `run`: `exec`'s options (but `--ephemeral`, which `run` always is),
 * then `pull`'s (but `--timeout` and `--reuse`), then `--pull`. Pure.
 *
 * @throws {TypeError} when `commands` lacks `exec` or `pull`.
 */
export function runCommandSpec(commands: readonly CommandSpec[]): CommandSpec {
  const exec = commands.find((c) => c.name === "exec");
  const pull = commands.find((c) => c.name === "pull");
  if (exec === undefined || pull === undefined) {
    throw new TypeError("run needs the exec and pull commands");
  }
  const options = exec.options.filter((o) => !NOT_FROM_EXEC.has(o.name));
  const taken = new Set(options.map((o) => o.name));
  for (const option of pull.options) {
    if (NOT_FROM_PULL.has(option.name) || taken.has(option.name)) continue;
    options.push(option);
    taken.add(option.name);
  }
  return {
    name: "run",
    summary: "run a command in a fresh copy of IMAGE, pulling it when missing",
    options: [...options, PULL_POLICY_OPTION, VERBOSE_OPTION, HELP_OPTION],
    positionals: [{
      name: "IMAGE",
      help: "an IMAGE as pull takes it (busybox, oci:DIR[:TAG], ...)",
    }],
    rest: exec.rest,
    description:
      "Uses the newest entry pulled from the same reference (for this platform),\n" +
      "pulling IMAGE when there is none; the command runs in a clone of it that is\n" +
      "removed afterwards, so the entry is never changed. Exits with the command's\n" +
      "status, as exec does; --timeout applies to the command, not the pull.",
  };
}
