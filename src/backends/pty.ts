/**
 * A pseudo-terminal of the command's own, relayed to the caller's terminal
 * by util-linux `script`. A command that holds the caller's terminal could
 * push keystrokes into it with `TIOCSTI`, to be read by the caller's shell
 * once polythene exits; holding only its own pty, it can push them only to
 * itself. `script` copies the window size (and `SIGWINCH`), puts the
 * caller's terminal in raw mode so that ^C and ^Z reach the command through
 * its pty, restores it afterwards, and with `-e` exits with the command's
 * status (128+N for signal N).
 *
 * `script -c` takes one shell command string. The one it gets here is a
 * constant, {@linkcode PTY_SCRIPT}: the argv travels in environment variables
 * `POLYTHENE_ARG_0`..`N-1`, which the script turns back into `"$@"` (only
 * the index is ever interpolated) and unsets before it execs the backend.
 *
 * @module
 */

/** Programs this module starts, for `--allow-run`. */
export const PTY_PROGRAMS = ["script"] as const;

/**
 * The constant command `script` runs through `SHELL` (`sh`): rebuilds argv
 * from `POLYTHENE_ARGC` and `POLYTHENE_ARG_I`, puts back the backend's own
 * `SHELL` and `PWD` (which `script` and `sh` set) or unsets them, and execs.
 */
export const PTY_SCRIPT = `n=$POLYTHENE_ARGC i=0
set --
while [ "$i" -lt "$n" ]; do
  eval "set -- \\"\\$@\\" \\"\\$POLYTHENE_ARG_$i\\""
  unset "POLYTHENE_ARG_$i"
  i=$((i + 1))
done
if [ -n "\${POLYTHENE_SHELL+set}" ]; then SHELL=$POLYTHENE_SHELL; else unset SHELL; fi
if [ -n "\${POLYTHENE_PWD+set}" ]; then PWD=$POLYTHENE_PWD; else unset PWD; fi
unset POLYTHENE_ARGC POLYTHENE_SHELL POLYTHENE_PWD n i
exec "$@"
`;

/** Environment variables {@linkcode onOwnPty} uses for itself. */
export function isPtyVariable(key: string): boolean {
  return /^POLYTHENE_(ARGC|ARG_\d+|SHELL|PWD)$/.test(key);
}

/**
 * `argv` run on a pty of its own by `script`, with `env` for the backend
 * (which must hold no variable of {@linkcode isPtyVariable}). Pure.
 *
 * @param script Absolute path of util-linux `script`.
 * @param sh Absolute path of `sh`, the shell `script` runs.
 * @returns The argv and environment to spawn.
 */
export function onOwnPty(
  script: string,
  sh: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): { argv: string[]; env: Record<string, string> } {
  const carried: Record<string, string> = {
    ...env,
    SHELL: sh,
    POLYTHENE_ARGC: String(argv.length),
  };
  if (env.SHELL !== undefined) carried.POLYTHENE_SHELL = env.SHELL;
  if (env.PWD !== undefined) carried.POLYTHENE_PWD = env.PWD;
  argv.forEach((arg, i) => carried[`POLYTHENE_ARG_${i}`] = arg);
  return {
    argv: [script, "--quiet", "--return", "--command", PTY_SCRIPT, "/dev/null"],
    env: carried,
  };
}
