/**
 * Reading the status channel (fd 3) that bwrap's `--json-status-fd` and the
 * chroot script write: one JSON object per line.
 *
 * @module
 */

/**
 * The shell wrapper that opens fd 3 on the status file and, when the second
 * and third parameters are not empty, fd 4 on the arguments file and fd 5 on
 * the seccomp filter file, then execs the backend. A constant: the files and
 * argv are positional arguments, never shell text. A file that cannot be
 * opened makes `sh` exit non-zero, which reads as a failure while setting up.
 */
export const STATUS_WRAPPER = 'f=$1 a=$2 s=$3; shift 3; [ -z "$a" ] || ' +
  'exec 4<"$a"; [ -z "$s" ] || exec 5<"$s"; exec "$@" 3>"$f"';

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

/**
 * Wraps `argv` so that fd 3 is `statusFile` when it starts, fd 4 is
 * `argsFile` and fd 5 is `seccompFile` when given. Pure.
 */
export function withStatusFd(
  sh: string,
  statusFile: string,
  argv: readonly string[],
  argsFile = "",
  seccompFile = "",
): string[] {
  return [
    sh,
    "-c",
    STATUS_WRAPPER,
    "polythene-status",
    statusFile,
    argsFile,
    seccompFile,
    ...argv,
  ];
}

/** `args` as bwrap's `--args FD` reads them: each ends with a NUL. Pure. */
export function nulSeparated(args: readonly string[]): string {
  return args.map((a) => `${a}\0`).join("");
}

/**
 * The fd bwrap reads a seccomp filter from (`--seccomp 5`): the wrapper
 * above opens it. Here, not in `seccomp.ts`, so that bubblewrap's module does
 * not load the filter builder on runs that pass no filter.
 */
export const SECCOMP_FD = 5;
