/**
 * Runs a helper process for a test and collects what it printed: the one
 * place the tests start a plain command with stdin closed.
 *
 * @module
 */

import { type CliResult, hostProgram } from "./cli.ts";

/** How {@linkcode runCommand} starts the process. */
export interface CommandOptions {
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Environment: added to this process's, or the whole of it with `clearEnv`. */
  env?: Record<string, string>;
  /** Start from an empty environment instead of this process's. */
  clearEnv?: boolean;
}

/** Runs `argv` with stdin closed; returns its exit code and decoded output. */
export async function runCommand(
  argv: readonly string[],
  options: CommandOptions = {},
): Promise<CliResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("Cannot run an empty argv");
  const out = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/**
 * Runs `argv` (its program looked up on PATH and in the sbin directories)
 * with stdin closed and stdout discarded.
 *
 * @throws {Error} naming the argv and its stderr when it fails.
 */
export async function runOrThrow(argv: readonly string[]): Promise<void> {
  const result = await runCommand([
    hostProgram(argv[0]!) ?? argv[0]!,
    ...argv.slice(1),
  ]);
  if (result.code !== 0) {
    throw new Error(`${argv.join(" ")}: ${result.stderr}`);
  }
}
