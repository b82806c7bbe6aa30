/**
 * proot: ptrace-based, no namespaces. `-r` with explicit binds (never `-R`,
 * which would also bind the host's /tmp, /run and $HOME), `-0` for fake root.
 *
 * Debian 12's proot 5.1 has no `--kill-on-exit`, ignores SIGTERM and SIGINT,
 * and leaves its tracees running when it is killed. So signals and timeouts
 * go to every process whose `TracerPid` is proot, found by a fixed script
 * (`SIGNAL_TREE_SCRIPT` in `signal_tree.ts`); proot exits when its last tracee does.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";
import { signalTree } from "./signal_tree.ts";

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
    return signalTree(programs.sh!, "tracees", pid, signal);
  },
};
