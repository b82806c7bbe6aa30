/**
 * chroot: real root only. util-linux `unshare` makes a private mount and pid
 * namespace (and a network namespace for `--network none`), a fixed `sh`
 * script mounts `/proc`, a small `/dev` and the binds, and then runs the
 * command with `unshare --root=ROOTFS --wd=.` (a chroot, and
 * `--setuid`/`--setgid` for `--user`), from the working directory the script
 * entered beforehand. The mounts vanish with the namespace.
 *
 * That last `unshare` runs under util-linux `setpriv` (`capabilities.ts`),
 * after the set-up that needs more: the guest keeps Docker's default
 * capabilities (`CAP_SYS_CHROOT` and `CAP_SETUID`/`CAP_SETGID` among them,
 * which `unshare` itself needs), a bounding set narrowed to them, and
 * `no_new_privs`. A `--user` other than root loses them all at its setuid.
 *
 * An image of another architecture with no usable host binfmt_misc entry
 * runs in a user namespace of its own with qemu registered in a private
 * binfmt_misc instance (`binfmt.ts`); the capabilities above then count
 * only there.
 *
 * @module
 */

import type { Backend, Invocation, RunSpec } from "./backend.ts";
import { DEFAULT_PATH, DEVICES } from "./backend.ts";
import { guestArgv, launcherEnv, refusesEnv } from "./launcher_env.ts";
import { setprivArgs } from "./capabilities.ts";
import { signalTree } from "./signal_tree.ts";
import { privateBinfmtOf, withPrivateBinfmt } from "./binfmt.ts";

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
 * made meanwhile can meet one. The working directory is entered under
 * `nosymfollow` too, and `unshare --wd=.` keeps it across the chroot, so a
 * swap after that check cannot fail the command's start with a status
 * that looks like the command's own (`unshare` exits 1 when its chdir
 * fails). `symfollow` is restored right before the command starts. The
 * rootfs, the `/dev` tmpfs and each bind are `nodev`, as bubblewrap's
 * `--bind` and `--dev` are: the guest holds `CAP_MKNOD`, and with no devices
 * cgroup (Docker's guard) a node it makes, or one the image shipped, would
 * open the host's disks; the six devices bound into `/dev` are mounts of
 * their own and keep working. It writes
 * bwrap-style `{ "exit-code": N }` to fd 3 once the command has run, so a
 * setup failure is told apart from the command's own status. The command
 * runs in the foreground: an `&` job would start with SIGINT and SIGQUIT
 * ignored. The script's own stderr is closed first, so that `sh` prints no
 * "Killed" line; the command keeps the real one. `PWD=/`, or `sh` would
 * export the host's working directory to it. Signals reach the command
 * through `SIGNAL_TREE_SCRIPT` (see `signal_tree.ts`). The command's
 * environment is the script's own (see `launcher_env.ts`), so the script's
 * variables are named `_p_*`, out of the way of the command's.
 */
export const CHROOT_SCRIPT = `set -eu
IFS=' 	
'
_p_cmdpath=\${PATH-}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
_p_mount=$1 _p_unshare=$2 _p_setpriv=$3 _p_root=$4 _p_devices=$5 _p_cwd=$6
_p_ids=$7 _p_binds=$8
shift 8
"$_p_mount" --bind -- "$_p_root" "$_p_root"
"$_p_mount" -o remount,bind,nodev,nosymfollow -- "$_p_root"
for _p_d in proc dev tmp; do
  if [ ! -e "$_p_root/$_p_d" ] && [ ! -L "$_p_root/$_p_d" ]; then
    mkdir "$_p_root/$_p_d"
  fi
done
"$_p_mount" -t proc -o nosuid,nodev,noexec proc "$_p_root/proc"
"$_p_mount" -t tmpfs -o nosuid,nodev,mode=0755 polythene-dev "$_p_root/dev"
for _p_n in $_p_devices; do
  : > "$_p_root/dev/$_p_n"
  "$_p_mount" --bind "/dev/$_p_n" "$_p_root/dev/$_p_n"
done
mkdir "$_p_root/dev/pts" "$_p_root/dev/shm"
ln -s /proc/self/fd "$_p_root/dev/fd"
ln -s /proc/self/fd/0 "$_p_root/dev/stdin"
ln -s /proc/self/fd/1 "$_p_root/dev/stdout"
ln -s /proc/self/fd/2 "$_p_root/dev/stderr"
while [ "$_p_binds" -gt 0 ]; do
  "$_p_mount" --bind -- "$1" "$_p_root$2"
  if [ "$3" = ro ]; then _p_o=remount,bind,nodev,ro; else _p_o=remount,bind,nodev; fi
  "$_p_mount" -o "$_p_o" -- "$_p_root$2"
  shift 3
  _p_binds=$((_p_binds - 1))
done
_p_old=\${OLDPWD+set} _p_oldpwd=\${OLDPWD-}
cd -P -- "$_p_root$_p_cwd"
if [ -n "$_p_old" ]; then OLDPWD=$_p_oldpwd; else unset OLDPWD; fi
"$_p_mount" -o remount,bind,nodev,symfollow -- "$_p_root"
set +e
PWD=/
exec 4>&2 2>/dev/null
if [ "$_p_ids" = 0:0 ]; then set -- -- "$@"; else
  set -- --setuid "\${_p_ids%:*}" --setgid "\${_p_ids#*:}" -- "$@"
fi
(PATH=$_p_cmdpath; "$_p_setpriv" ${setprivArgs().join(" ")} -- \
  "$_p_unshare" "--root=$_p_root" --wd=. "$@" 2>&4 4>&- 3>&-)
_p_status=$?
printf '{ "exit-code": %d }\\n' "$_p_status" >&3
exit "$_p_status"
`;

/** Builds the host argv (after `unshare`) for `spec`. Pure. */
export function chrootArgs(
  spec: RunSpec,
  programs: { sh: string; mount: string; unshare: string; setpriv: string },
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
    programs.setpriv,
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
  programs: ["unshare", "mount", "setpriv", "sh"],
  spawns: ["unshare", "sh"],
  needsRoot: true,
  package: "util-linux",
  isolates: { pid: true, network: true, mounts: true, root: "real" },
  refuses(spec): string | undefined {
    return refusesEnv(spec, "unshare, setpriv, sh and mount");
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
        programs.setpriv!,
        ...setprivArgs(),
        "--",
        "true",
      ],
      env: { PATH: DEFAULT_PATH },
      statusFd: false,
    };
  },
  invocation(spec, _host, programs): Invocation {
    const argv = [
      programs.unshare!,
      ...chrootArgs(spec, {
        sh: programs.sh!,
        mount: programs.mount!,
        unshare: programs.unshare!,
        setpriv: programs.setpriv!,
      }),
    ];
    // A foreign image with no usable host binfmt_misc entry: in a user
    // namespace of the whole id range with qemu registered in a private
    // instance (binfmt.ts).
    const binfmt = privateBinfmtOf(spec.emulation);
    return {
      argv: binfmt ? withPrivateBinfmt(binfmt, true, argv) : argv,
      env: launcherEnv(spec),
      statusFd: true,
    };
  },
  signalTree(pid, signal, programs, underChild): Invocation {
    return signalTree(programs.sh!, "grandchildren", pid, signal, underChild);
  },
};
