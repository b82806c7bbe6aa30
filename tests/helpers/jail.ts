/**
 * A jail for hostile payloads run as root: a throwaway mount namespace in
 * which every host path is read-only except the few a test names. A
 * regression that lets an image write outside its staging directory then
 * fails with EROFS (and the test's sentinel check sees it) instead of
 * rewriting the machine's `/etc/passwd`.
 *
 * The namespace dies with its last process, so nothing needs undoing. Only
 * the mount flags of this namespace's view change; the host's mounts are
 * untouched (`--propagation private`).
 *
 * ```ts
 * const jail = jailPrefix([tmp]);
 * await runPolythene(["pull", "--store", `${tmp}/store`, `oci:${tmp}/img`], {
 *   prefix: jail,
 *   env: { TMPDIR: tmp },
 * });
 * ```
 *
 * @module
 */

/**
 * The fixed script run as the jail's first process. Arguments: the count of
 * writable paths, the paths, then the command. `/` and the other writable
 * mounts of the host (`/dev/shm`, `/run`, `/tmp` when it is one) are
 * remounted read-only first; then each writable path is bound onto itself
 * and that mount alone made writable again, so a writable path may also be
 * one of those mounts (`/tmp`). User data reaches it only as positional parameters.
 * Its own tools come from a fixed PATH; the command gets the caller's back
 * (a test may narrow it to one backend's programs).
 */
export const JAIL_SCRIPT = `set -eu
cmdpath=\${PATH-}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
n=$1
shift
mount -o remount,bind,ro /
for m in /dev/shm /run /var/tmp /tmp /home /root; do
  if mountpoint -q "$m"; then mount -o remount,bind,ro "$m"; fi
done
while [ "$n" -gt 0 ]; do
  mount --bind -- "$1" "$1"
  mount -o remount,bind,rw -- "$1"
  shift
  n=$((n - 1))
done
PATH=$cmdpath
exec "$@"
`;

/**
 * The argv prefix that runs a command (as root) in a fresh mount namespace
 * where the host is read-only but for `writable`. Use it as `runPolythene`'s
 * `prefix`, or in front of any argv.
 *
 * @param writable Existing absolute paths the command may write to (the
 *   test's own temporary directory, typically).
 */
export function jailPrefix(writable: readonly string[]): string[] {
  for (const path of writable) {
    if (!path.startsWith("/")) {
      throw new TypeError(`A jail's writable path must be absolute: ${path}`);
    }
  }
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    JAIL_SCRIPT,
    "polythene-jail",
    String(writable.length),
    ...writable,
  ];
}

/** Whether this process can make a jail: it must be real root. */
export function canJail(): boolean {
  return Deno.uid() === 0;
}
