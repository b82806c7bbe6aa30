/**
 * proot: ptrace-based, no namespaces. `-r` with explicit binds (never `-R`,
 * which would also bind the host's /tmp, /run and $HOME), `-0` for fake root.
 *
 * Debian 12's proot 5.1 has no `--kill-on-exit`, ignores SIGTERM and SIGINT,
 * and leaves its tracees running when it is killed. So signals and timeouts
 * go to every process whose `TracerPid` is proot, found by a fixed script
 * (`SIGNAL_TREE_SCRIPT` in `signal_tree.ts`); proot exits when its last tracee does.
 *
 * As real root proot's tracees are real root, so proot runs under util-linux
 * `setpriv` (`capabilities.ts`): Docker's default capabilities, a bounding
 * set narrowed to them, and `no_new_privs`. Tracing its own children needs
 * no capability. `-i UID:GID` only fakes the ids: the guest is still real
 * root with that set.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";
import { underSetpriv } from "./capabilities.ts";
import { signalTree } from "./signal_tree.ts";
import { guestArgv, launcherEnv, refusesEnv } from "./launcher_env.ts";
import { withAccessFilter } from "./proot_compat.ts";

/** Builds proot's argv for `spec`. Pure. */
export function prootArgs(spec: RunSpec): string[] {
  const ids = spec.user ?? { uid: 0, gid: 0 };
  const user = ids.uid === 0 && ids.gid === 0
    ? ["-0"]
    : ["-i", `${ids.uid}:${ids.gid}`];
  // qemu-user runs every guest program of a foreign image (`emulation.ts`).
  const qemu = spec.emulation?.qemu;
  const args = [
    ...(qemu === undefined ? [] : ["-q", qemu]),
    "-r",
    spec.rootfs,
    ...user,
    "-w",
    spec.cwd,
  ];
  args.push("-b", "/proc");
  for (const device of DEVICES) args.push("-b", `/dev/${device}`);
  for (const mount of spec.mounts ?? []) {
    args.push("-b", `${mount.source}:${mount.target}`);
  }
  // proot 5.1 has no "--": the command starts at the first non-option,
  // which is why `exec` refuses a program name starting with "-".
  args.push(...guestArgv(spec));
  return args;
}

/** The proot backend. */
export const proot: Backend = {
  name: "proot",
  programs: ["proot", "sh"],
  rootPrograms: ["setpriv"],
  spawns: ["proot", "perl", "setpriv", "sh"],
  needsRoot: false,
  package: "proot",
  isolates: { pid: false, network: false, mounts: false, root: "faked" },
  refuses(spec): string | undefined {
    if (spec.network === "none") {
      return "cannot isolate the network (--network none)";
    }
    if (spec.idMap?.mode === "full" && spec.idMap.forced) {
      return "cannot map a range of ids (--id-map full)";
    }
    // A host file gets a private copy before proot runs (host_copies.ts).
    const ro = (spec.mounts ?? []).find((m) =>
      m.readOnly && !m.privateCopy && !m.hostFile
    );
    if (ro !== undefined) {
      return `cannot make a bind read-only ("${ro.source}:${ro.target}:ro")`;
    }
    return refusesEnv(spec, "proot and setpriv");
  },
  probe(host, programs): Invocation {
    return {
      argv: underSetpriv(
        [programs.proot!, "-r", "/", "-0", "true"],
        host,
        programs.setpriv,
      ),
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
  invocation(spec, host, programs): Invocation {
    return {
      // perl loads the compat filter first, then setpriv (as root) narrows
      // the capabilities: the filter does not touch the calls setpriv makes.
      argv: withAccessFilter(
        spec,
        underSetpriv(
          [programs.proot!, ...prootArgs(spec)],
          host,
          programs.setpriv,
        ),
      ),
      env: launcherEnv(spec),
      statusFd: false,
    };
  },
  signalTree(pid, signal, programs, underChild): Invocation {
    return signalTree(programs.sh!, "tracees", pid, signal, underChild);
  },
};
