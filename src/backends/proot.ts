/**
 * proot: ptrace-based, no namespaces. `-r` with explicit binds (never `-R`,
 * which would also bind the host's /tmp, /run and $HOME), `-0` for fake root.
 *
 * Debian 12's proot 5.1 has no `--kill-on-exit`, ignores SIGTERM and SIGINT,
 * and leaves its tracees running when it is killed. So signals and timeouts
 * go to every process whose `TracerPid` is proot, found by a fixed script
 * ({@linkcode PROOT_SIGNAL_SCRIPT}); proot exits when its last tracee does.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";

/** Builds proot's argv for `spec`. Pure. */
export function prootArgs(spec: RunSpec): string[] {
  const args = ["-r", spec.rootfs, "-0", "-w", spec.cwd];
  args.push("-b", "/proc");
  for (const device of DEVICES) args.push("-b", `/dev/${device}`);
  // proot 5.1 has no "--": the command starts at the first non-option,
  // which is why `exec` refuses a program name starting with "-".
  args.push(...spec.argv);
  return args;
}

/**
 * Sends signal `$1` to every process traced by pid `$2`, repeating for
 * SIGKILL until none is left (a tracee may fork meanwhile). Reads only
 * `/proc/PID/status`, with shell built-ins.
 */
export const PROOT_SIGNAL_SCRIPT = `sig=$1 tracer=$2
tracees() {
  for f in /proc/[0-9]*/status; do
    while read -r key value; do
      if [ "$key" = TracerPid: ]; then
        if [ "$value" = "$tracer" ]; then p=\${f#/proc/}; echo "\${p%/status}"; fi
        break
      fi
    done < "$f" 2>/dev/null
  done
}
for round in 1 2 3 4 5 6 7 8 9 10; do
  pids=$(tracees)
  [ -n "$pids" ] || exit 0
  kill -s "$sig" $pids 2>/dev/null
  [ "$sig" = KILL ] || exit 0
done
`;

/** The proot backend. */
export const proot: Backend = {
  name: "proot",
  programs: ["proot", "sh"],
  spawns: ["proot", "sh"],
  needsRoot: false,
  package: "proot",
  probe(_host, programs): Invocation {
    return {
      argv: [programs.proot!, "-r", "/", "-0", "true"],
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
  invocation(spec, _host, programs): Invocation {
    return {
      argv: [programs.proot!, ...prootArgs(spec)],
      env: { ...spec.env },
      statusFd: false,
    };
  },
  signalTree(pid, signal, programs): Invocation {
    return {
      argv: [
        programs.sh!,
        "-c",
        PROOT_SIGNAL_SCRIPT,
        "polythene-signal",
        signal.replace(/^SIG/, ""),
        String(pid),
      ],
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
};
