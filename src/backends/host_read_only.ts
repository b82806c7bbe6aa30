/**
 * A mount namespace in which the host is read-only, for bubblewrap run as
 * real root.
 *
 * bwrap resolves each bind's destination inside its staging root, where the
 * host is mounted at `/oldroot`, and creates what is missing, following
 * symlinks. polythene makes every destination first (`mount_point.ts`), but
 * another run's command may swap a directory of the rootfs for a symlink to
 * `/oldroot/...` in between, and bwrap, as root, would then create a file or
 * directory on the host. So as real root bwrap starts in a private mount
 * namespace where every mount of the host is remounted read-only, except the
 * rootfs and the sources of writable binds, which are bound onto themselves
 * and made writable again: such a swap then fails with EROFS. The host's own
 * mounts are untouched (`--propagation private`), and the namespace ends
 * with bwrap. The kernel's file systems (`/proc`, `/sys`, `/dev`) are left
 * as they are: bwrap makes its own `/proc` and `/dev`.
 *
 * @module
 */

/**
 * The fixed script: `$1` the `mount` program, `$2` how many writable paths
 * follow, the paths, then the command, which it execs. Mount points whose
 * names `/proc/self/mountinfo` escapes (a space in a path) cannot be named
 * here and stay as they are.
 */
export const HOST_READ_ONLY_SCRIPT = `set -eu
_p_mount=$1 _p_n=$2
shift 2
while read -r _ _ _ _ _p_mp _; do
  case $_p_mp in
  /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) ;;
  *) "$_p_mount" -o remount,bind,ro -- "$_p_mp" 2>/dev/null || : ;;
  esac
done </proc/self/mountinfo
while [ "$_p_n" -gt 0 ]; do
  "$_p_mount" --bind -- "$1" "$1"
  "$_p_mount" -o remount,bind,rw -- "$1"
  shift
  _p_n=$((_p_n - 1))
done
unset _p_mount _p_n _p_mp
exec "$@"
`;

/**
 * `argv` run in a mount namespace where the host is read-only but for
 * `writable` (absolute host paths). Pure.
 */
export function withHostReadOnly(
  programs: { unshare: string; sh: string; mount: string },
  writable: readonly string[],
  argv: readonly string[],
): string[] {
  return [
    programs.unshare,
    "--mount",
    "--propagation",
    "private",
    "--",
    ...hostReadOnlyScript(programs, writable, argv),
  ];
}

/**
 * The script's part of {@linkcode withHostReadOnly}, for a caller already
 * in a private mount namespace of its own (an ephemeral run's overlay,
 * `overlay.ts`). Pure.
 */
export function hostReadOnlyScript(
  programs: { sh: string; mount: string },
  writable: readonly string[],
  argv: readonly string[],
): string[] {
  return [
    programs.sh,
    "-c",
    HOST_READ_ONLY_SCRIPT,
    "polythene-host-ro",
    programs.mount,
    String(writable.length),
    ...writable,
    ...argv,
  ];
}
