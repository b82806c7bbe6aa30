/**
 * chroot: real root only. util-linux `unshare` makes a private mount and pid
 * namespace, a fixed `sh` script mounts `/proc`, a small `/dev` and then runs
 * coreutils `chroot`. The mounts vanish with the namespace.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";
import { signalTree } from "./signal_tree.ts";

/**
 * The fixed setup script, run as pid 1 of the new pid namespace. User data
 * reaches it only as positional parameters, never by concatenation. It writes
 * bwrap-style `{ "exit-code": N }` to fd 3 once the command has run, so a
 * setup failure is told apart from the command's own status. The command
 * runs in the foreground: an `&` job would start with SIGINT and SIGQUIT
 * ignored. The script's own stderr is closed first, so that `sh` prints no
 * "Killed" line; the command keeps the real one. `PWD=/`, or `sh` would
 * export the host's working directory to it. Signals reach the command
 * through `SIGNAL_TREE_SCRIPT` (see `signal_tree.ts`).
 */
export const CHROOT_SCRIPT = `set -eu
mount=$1 chroot=$2 root=$3 devices=$4
shift 4
mkdir -p "$root/proc" "$root/dev" "$root/tmp"
"$mount" -t proc -o nosuid,nodev,noexec proc "$root/proc"
"$mount" -t tmpfs -o nosuid,mode=0755 polythene-dev "$root/dev"
for n in $devices; do
  : > "$root/dev/$n"
  "$mount" --bind "/dev/$n" "$root/dev/$n"
done
mkdir "$root/dev/pts" "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
set +e
PWD=/
exec 4>&2 2>/dev/null
("$chroot" "$root" "$@" 2>&4 4>&- 3>&-)
status=$?
printf '{ "exit-code": %d }\\n' "$status" >&3
exit "$status"
`;

/** Builds the host argv (after `unshare`) for `spec`. Pure. */
export function chrootArgs(
  spec: RunSpec,
  programs: { sh: string; mount: string; chroot: string },
): string[] {
  return [
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--propagation",
    "private",
    "--",
    programs.sh,
    "-c",
    CHROOT_SCRIPT,
    "polythene-chroot",
    programs.mount,
    programs.chroot,
    spec.rootfs,
    DEVICES.join(" "),
    ...spec.argv,
  ];
}

/** The chroot backend. */
export const chroot: Backend = {
  name: "chroot",
  programs: ["unshare", "chroot", "mount", "sh"],
  spawns: ["unshare", "sh"],
  needsRoot: true,
  package: "util-linux and coreutils",
  probe(_host, programs): Invocation {
    return {
      argv: [
        programs.unshare!,
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--",
        "true",
      ],
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
  invocation(spec, _host, programs): Invocation {
    return {
      argv: [
        programs.unshare!,
        ...chrootArgs(spec, {
          sh: programs.sh!,
          mount: programs.mount!,
          chroot: programs.chroot!,
        }),
      ],
      env: { ...spec.env },
      statusFd: true,
    };
  },
  signalTree(pid, signal, programs): Invocation {
    return signalTree(programs.sh!, "grandchildren", pid, signal);
  },
};
