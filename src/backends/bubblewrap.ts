/**
 * bubblewrap: user, pid, ipc, uts and mount namespaces. Setup failures are
 * told apart from the command's status with `--json-status-fd 3`.
 *
 * @module
 */

import type { Backend, HostInfo, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH } from "./backend.ts";
import { signalTree } from "./signal_tree.ts";

/** Namespace and lifetime flags shared by the probe and the real run. */
export function bwrapBaseArgs(host: HostInfo): string[] {
  const user = host.realRoot
    ? []
    : ["--unshare-user", "--uid", "0", "--gid", "0"];
  return [
    ...user,
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
  ];
}

/** Builds bwrap's argv for `spec`. Pure. */
export function bwrapArgs(spec: RunSpec, host: HostInfo): string[] {
  const args = bwrapBaseArgs(host);
  if (!spec.stdinIsTty) args.push("--new-session");
  args.push(
    "--bind",
    spec.rootfs,
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    spec.cwd,
    "--clearenv",
  );
  for (const [key, value] of Object.entries(spec.env)) {
    args.push("--setenv", key, value);
  }
  args.push("--json-status-fd", "3", "--", ...spec.argv);
  return args;
}

/** The bubblewrap backend. */
export const bubblewrap: Backend = {
  name: "bubblewrap",
  programs: ["bwrap", "sh"],
  spawns: ["bwrap", "sh"],
  needsRoot: false,
  package: "bubblewrap",
  probe(host, programs): Invocation {
    return {
      argv: [
        programs.bwrap!,
        ...bwrapBaseArgs(host),
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "true",
      ],
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
  invocation(spec, host, programs): Invocation {
    return {
      argv: [programs.bwrap!, ...bwrapArgs(spec, host)],
      env: {},
      statusFd: true,
    };
  },
  signalTree(pid, signal, programs): Invocation {
    return signalTree(programs.sh!, "grandchildren", pid, signal);
  },
};
