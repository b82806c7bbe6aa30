/**
 * bubblewrap: user, pid, ipc, uts and mount namespaces. Setup failures are
 * told apart from the command's status with `--json-status-fd 3`; the
 * command's environment is read from fd 4 (`--args 4`), off the argv. A
 * guest that is root inside keeps only Docker's default capabilities
 * (`capabilities.ts`) in its effective, permitted, inheritable and ambient
 * sets; bwrap always sets `no_new_privs`. As real root without a user
 * namespace the bounding set stays full: bwrap needs it to make its
 * namespaces, and takes no flag to narrow it.
 *
 * @module
 */

import type { Backend, HostInfo, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH } from "./backend.ts";
import { bwrapCapabilityArgs } from "./capabilities.ts";
import { hostReadOnlyScript } from "./host_read_only.ts";
import { overlayArgv, overlayNamespace } from "./overlay.ts";
import { signalTree } from "./signal_tree.ts";
import { bwrapIdMapArgs, idMapInvocation } from "./id_map_bwrap.ts";
import { binfmtArgv, privateBinfmtOf, withPrivateBinfmt } from "./binfmt.ts";

/**
 * Namespace, capability and lifetime flags shared by the probe and the real
 * run. Real root with uid 0 inside needs no user namespace; anything else
 * gets one, with `ids` inside mapped to polythene's own uid and gid. uid 0
 * inside keeps only Docker's default capabilities; bwrap gives any other
 * uid none. As an unprivileged user bwrap would otherwise give uid 0 none
 * either (faked ownership: dpkg could not write into a 0750 directory it
 * made), and in full id maps it would keep them all. Pure.
 */
export function bwrapBaseArgs(
  host: HostInfo,
  ids: { uid: number; gid: number } = { uid: 0, gid: 0 },
): string[] {
  const user = host.realRoot && ids.uid === 0 && ids.gid === 0 ? [] : [
    "--unshare-user",
    "--uid",
    String(ids.uid),
    "--gid",
    String(ids.gid),
  ];
  return [
    ...user,
    ...(ids.uid === 0 ? bwrapCapabilityArgs() : []),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
  ];
}

/** Builds bwrap's argv for `spec`. Pure. */
export function bwrapArgs(spec: RunSpec, host: HostInfo): string[] {
  // id mapping (id_map_bwrap.ts): full maps run bwrap in unshare's
  // namespace, so it makes none of its own.
  const args = spec.idMap?.mode === "full"
    ? bwrapBaseArgs({ ...host, realRoot: true })
    : bwrapBaseArgs(host, spec.user);
  if (spec.network === "none") args.push("--unshare-net");
  if (!spec.terminal) args.push("--new-session");
  args.push(
    "--bind",
    spec.rootfs,
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
  );
  for (const mount of spec.mounts ?? []) {
    args.push(
      mount.readOnly ? "--ro-bind" : "--bind",
      mount.source,
      mount.target,
    );
  }
  // The environment comes from fd 4 (bwrapEnvArgs), never the argv, which
  // every local user can read in /proc/PID/cmdline.
  args.push("--chdir", spec.cwd, "--clearenv", "--args", "4");
  args.push(...bwrapIdMapArgs(spec));
  args.push("--json-status-fd", "3", "--", ...spec.argv);
  return args;
}

/** The `--setenv KEY VALUE` arguments that bwrap reads from fd 4. Pure. */
export function bwrapEnvArgs(spec: RunSpec): string[] {
  return Object.entries(spec.env).flatMap(([key, value]) => [
    "--setenv",
    key,
    value,
  ]);
}

/** The bubblewrap backend. */
export const bubblewrap: Backend = {
  name: "bubblewrap",
  programs: ["bwrap", "sh"],
  // As real root, bwrap starts where the host is read-only (see
  // host_read_only.ts).
  rootPrograms: ["unshare", "mount"],
  spawns: ["bwrap", "sh", "unshare"],
  needsRoot: false,
  diesWithParent: true,
  package: "bubblewrap",
  isolates: {
    pid: true,
    network: true,
    mounts: true,
    root: "real as root, else mapped in a user namespace",
  },
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
    const argv = [programs.bwrap!, ...bwrapArgs(spec, host)];
    const hostRo = {
      unshare: programs.unshare!,
      sh: programs.sh!,
      mount: programs.mount!,
    };
    const writable = [
      spec.rootfs,
      ...(spec.mounts ?? []).filter((m) => !m.readOnly).map((m) => m.source),
    ];
    // A foreign image with no usable host binfmt_misc entry: qemu is
    // registered in a private instance first (binfmt.ts). Full id maps
    // make their namespace themselves (id_map_bwrap.ts).
    const binfmt = privateBinfmtOf(spec.emulation);
    const userBinfmt = !host.realRoot && spec.idMap?.mode !== "full"
      ? binfmt
      : undefined;
    // As root, an ephemeral run's overlay is mounted in the same private
    // namespace, just before the host is made read-only (with a private
    // binfmt_misc, by real root outside its user namespace). As a user
    // with one, in that same user namespace.
    const overlay = host.realRoot || userBinfmt ? spec.overlay : undefined;
    let inner = argv;
    let namespace: string[] = [];
    if (host.realRoot) {
      const readOnly = hostReadOnlyScript(hostRo, writable, argv);
      inner = binfmt ? withPrivateBinfmt(binfmt, true, readOnly) : readOnly;
      if (overlay || !binfmt) {
        namespace = overlayNamespace(hostRo.unshare, host);
      }
    } else if (userBinfmt) {
      inner = binfmtArgv(userBinfmt, argv);
      namespace = overlayNamespace(userBinfmt.unshare, host);
    }
    return idMapInvocation(spec, {
      argv: [
        ...namespace,
        ...(overlay ? overlayArgv(overlay, !host.realRoot, inner) : inner),
      ],
      env: {},
      statusFd: true,
      fdArgs: bwrapEnvArgs(spec),
      ...(overlay ? { overlaid: true } : {}),
    });
  },
  signalTree(pid, signal, programs, underChild): Invocation {
    return signalTree(programs.sh!, "grandchildren", pid, signal, underChild);
  },
};
