/**
 * `polythene completions bash|zsh|fish`: prints the completion script.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { completionScript, type Shell, SHELLS } from "./completion_scripts.ts";

/** Runs the `completions` command; returns the exit code. */
export function completionsCommand(positionals: string[]): number {
  const shell = positionals[0] ?? "";
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(
      `Unknown shell "${shell}": expected one of ${SHELLS.join(", ")}`,
      "completions",
    );
  }
  console.log(completionScript(shell as Shell).trimEnd());
  return 0;
}
