/**
 * The CLI on a real pty, from util-linux `script`, and the quoting that
 * puts an argv into the shell command `script` runs.
 *
 * @module
 */

import { cliArgv } from "./cli.ts";

/** `word` as one single-quoted shell word. Pure. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `polythene ARGS` with stdout and stderr on a pty (`script -qec`), in
 * an environment of PATH, HOME, DENO_DIR and `env` only; returns the exit
 * code and what the terminal showed.
 */
export async function onTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; shown: string }> {
  const command = [...cliArgv(), ...args].map(shellQuote).join(" ");
  const denoDir = Deno.env.get("DENO_DIR");
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...(denoDir ? { DENO_DIR: denoDir } : {}),
      ...env,
    },
    stdin: "null",
    stderr: "inherit",
  }).output();
  return { code: out.code, shown: new TextDecoder().decode(out.stdout) };
}
