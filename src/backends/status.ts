/**
 * Reading the status channel (fd 3) that bwrap's `--json-status-fd` and the
 * chroot script write: one JSON object per line.
 *
 * @module
 */

/** The shell wrapper that opens fd 3 on a file, then execs the backend. */
export const STATUS_WRAPPER = 'f=$1; shift; exec "$@" 3>"$f"';

/**
 * The command's exit code as reported on the status channel, or undefined
 * when the command never ran (the backend failed while setting up). Pure.
 */
export function reportedExitCode(statusText: string): number | undefined {
  for (const line of statusText.split("\n")) {
    if (!line.includes('"exit-code"')) continue;
    try {
      const value = JSON.parse(line)["exit-code"];
      if (typeof value === "number") return value;
    } catch {
      // A torn line: keep looking.
    }
  }
  return undefined;
}

/** Wraps `argv` so that fd 3 is `statusFile` when it starts. Pure. */
export function withStatusFd(
  sh: string,
  statusFile: string,
  argv: readonly string[],
): string[] {
  return [sh, "-c", STATUS_WRAPPER, "polythene-status", statusFile, ...argv];
}
