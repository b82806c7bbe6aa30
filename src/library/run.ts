/**
 * The library's `run`: `polythene run IMAGE -- ARGV...`.
 *
 * @module
 */

import { exec } from "./functions.ts";
import type { CapturedExecResult, ExecResult, RunOptions } from "./options.ts";
import { pullRequestOf } from "./_env.ts";

/**
 * Runs `argv` in a fresh copy of the entry `image` stands for, as
 * `polythene run IMAGE -- ARGV...`: the newest entry pulled from the same
 * reference, pulled first when there is none (see `pull` in
 * {@linkcode RunOptions}). The copy is removed afterwards; the entry is
 * never changed.
 *
 * @example
 * ```ts
 * import { run } from "../mod.ts";
 *
 * export async function hello(layout: string): Promise<string> {
 *   const result = await run(`oci:${layout}:latest`, ["echo", "hello"], {
 *     store: "/tmp/polythene-tests",
 *     capture: true,
 *   });
 *   return result.stdout;
 * }
 * ```
 *
 * @returns The command's exit code (and output, with `capture`).
 * @throws What {@linkcode pull} and {@linkcode exec} throw; with `pull:
 * "never"` and nothing stored, {PolytheneError} (1).
 */
export async function run(
  image: string,
  argv: readonly string[],
  options: RunOptions & ({ capture: true } | { input: string | Uint8Array }),
): Promise<CapturedExecResult>;
/** Runs `argv` with stdio passed through; see the overload above. */
export async function run(
  image: string,
  argv: readonly string[],
  options?: RunOptions,
): Promise<ExecResult>;
export async function run(
  image: string,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<ExecResult> {
  // Loaded on use, as pull is: the puller never reaches `exec`.
  const { entryForImage } = await import("../image/entry_for_image.ts");
  const uuid = await entryForImage(
    pullRequestOf(image, options),
    options.pull ?? "missing",
  );
  return await exec(uuid, argv, { ...options, ephemeral: true });
}
