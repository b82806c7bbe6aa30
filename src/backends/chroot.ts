/**
 * chroot: real root only. util-linux `unshare` makes a private mount and pid
 * namespace (and a network namespace for `--network none`), a fixed `sh`
 * script mounts `/proc`, a small `/dev` and the binds, and then runs the
 * command with `unshare --root=ROOTFS --wd=DIR` (a chroot that can also set
 * the working directory, and `--setuid`/`--setgid` for `--user`). The mounts
 * vanish with the namespace.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";
import { guestArgv, launcherEnv, refusesEnv } from "./launcher_env.ts";
import { signalTree } from "./signal_tree.ts";

/**
 * The fixed setup script, run as pid 1 of the new pid namespace. User data
 * reaches it only as positional parameters, never by concatenation.
 *
 * It works as real root on a rootfs whose names another run's command may
 * be changing (exec takes a shared lock), so it first binds the rootfs onto
 * itself, in its private mount namespace, with `nosymfollow`: until the
 * setup is done, a symlink anywhere under `$root` fails with ELOOP instead
 * of taking a `mkdir`, `: >` or mount to a host path. The bind targets it
 * gets are already resolved inside the rootfs (no symlinks), so only a swap
 * made meanwhile can meet one. `symfollow` is restored right before the
 * command starts. It writes
 * bwrap-style `{ "exit-code": N }` to fd 3 once the command has run, so a
 * setup failure is told apart from the command's own status. The command
 * runs in the foreground: an `&` job would start with SIGINT and SIGQUIT
 * ignored. The script's own stderr is closed first, so that `sh` prints no
 * "Killed" line; the command keeps the real one. `PWD=/`, or `sh` would
 * export the host's working directory to it. Signals reach the command
 * through `SIGNAL_TREE_SCRIPT` (see `signal_tree.ts`).
 */
export const CHROOT_SCRIPT = `set -eu
IFS=' 	
'
cmdpath=\${PATH-}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount=$1 unshare=$2 root=$3 devices=$4 cwd=$5 ids=$6 binds=$7
shift 7
"$mount" --bind -- "$root" "$root"
"$mount" -o remount,bind,nosymfollow -- "$root"
for d in proc dev tmp; do
  if [ ! -e "$root/$d" ] && [ ! -L "$root/$d" ]; then mkdir "$root/$d"; fi
done
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
while [ "$binds" -gt 0 ]; do
  "$mount" --bind -- "$1" "$root$2"
  if [ "$3" = ro ]; then "$mount" -o remount,bind,ro -- "$root$2"; fi
  shift 3
  binds=$((binds - 1))
done
"$mount" -o remount,bind,symfollow -- "$root"
set +e
PWD=/
exec 4>&2 2>/dev/null
if [ "$ids" = 0:0 ]; then set -- -- "$@"; else
  set -- --setuid "\${ids%:*}" --setgid "\${ids#*:}" -- "$@"
fi
(PATH=$cmdpath; "$unshare" "--root=$root" "--wd=$cwd" "$@" 2>&4 4>&- 3>&-)
status=$?
printf '{ "exit-code": %d }\\n' "$status" >&3
exit "$status"
`;

/** Builds the host argv (after `unshare`) for `spec`. Pure. */
export function chrootArgs(
  spec: RunSpec,
  programs: { sh: string; mount: string; unshare: string },
): string[] {
  const ids = spec.user ?? { uid: 0, gid: 0 };
  const mounts = spec.mounts ?? [];
  return [
    "--mount",
    "--pid",
    ...(spec.network === "none" ? ["--net"] : []),
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
    programs.unshare,
    spec.rootfs,
    DEVICES.join(" "),
    spec.cwd,
    `${ids.uid}:${ids.gid}`,
    String(mounts.length),
    ...mounts.flatMap((m) => [m.source, m.target, m.readOnly ? "ro" : "rw"]),
    ...guestArgv(spec),
  ];
}

/** The chroot backend. */
export const chroot: Backend = {
  name: "chroot",
  programs: ["unshare", "mount", "sh"],
  spawns: ["unshare", "sh"],
  needsRoot: true,
  package: "util-linux",
  isolates: { pid: true, network: true, mounts: true, root: "real" },
  refuses(spec): string | undefined {
    return refusesEnv(spec, "unshare, sh and mount");
  },
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
          unshare: programs.unshare!,
        }),
      ],
      env: launcherEnv(spec),
      statusFd: true,
    };
  },
  signalTree(pid, signal, programs, underChild): Invocation {
    return signalTree(programs.sh!, "grandchildren", pid, signal, underChild);
  },
};
