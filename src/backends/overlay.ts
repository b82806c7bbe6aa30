/**
 * `exec --ephemeral` on an overlay: the entry is overlayfs's read-only lower
 * layer, and the run's writes go to an upper directory in its private
 * directory (`STORE/.polythene/run/<random>/`). The overlay is mounted by a
 * fixed `sh` script ({@linkcode OVERLAY_SCRIPT}) in a mount namespace of its
 * own, which then execs the backend's argv: as real root, `unshare --mount
 * --propagation private`; otherwise `unshare --user --map-root-user
 * --mount`, where the kernel allows overlayfs (with `userxattr`), and bwrap
 * makes its own user namespace inside, as it would outside. Full id maps
 * (`id_map_bwrap.ts`) mount it in their own `unshare`. Nothing is mounted
 * in the host's namespace: the mount ends with the last process of the run.
 * Pure.
 *
 * @module
 */

import type { HostInfo, Invocation, OverlayPlan, RunSpec } from "./backend.ts";

/**
 * The fixed script: `$1` the `mount` program, `$2` overlayfs's options,
 * `$3` the merged directory, `$4` how many mount points to make, then that
 * many pairs of `dir`|`file` and a path inside the rootfs, then the command,
 * which it execs. When there are mount points to make, the overlay is
 * mounted `nosymfollow` while they are made (a symlink in the image fails
 * with ELOOP instead of taking a `mkdir` to a host path), and `symfollow`
 * again before the command starts. Paths are positional parameters, never
 * part of the script. Its own `mkdir` is found on a fixed PATH: the environment it
 * gets is the backend's, which for chroot and proot carries the image's
 * PATH; that is restored (or left unset) for the command it execs.
 */
export const OVERLAY_SCRIPT = `set -eu
if [ "\${PATH+set}" = set ]; then _p_path=$PATH; else unset _p_path; fi
PATH=/usr/sbin:/usr/bin:/sbin:/bin
_p_mount=$1 _p_opts=$2 _p_merged=$3 _p_n=$4 _p_made=$4
shift 4
if [ "$_p_made" -gt 0 ]; then _p_opts=nosymfollow,$_p_opts; fi
"$_p_mount" -t overlay -o "$_p_opts" polythene-overlay "$_p_merged"
while [ "$_p_n" -gt 0 ]; do
  if [ "$1" = dir ]; then mkdir -m 0755 -- "$_p_merged$2"
  else (set -C; : > "$_p_merged$2"); fi
  shift 2
  _p_n=$((_p_n - 1))
done
if [ "$_p_made" -gt 0 ]; then
  "$_p_mount" -o remount,bind,symfollow -- "$_p_merged"
fi
if [ "\${_p_path+set}" = set ]; then PATH=$_p_path; else unset PATH; fi
unset _p_mount _p_opts _p_merged _p_n _p_made _p_path
exec "$@"
`;

/**
 * overlayfs's mount options for `plan`, or undefined when a path holds a
 * character the option string cannot carry (`,` `:` `\` quotes, control
 * characters): such a run falls back to a copy. In a user namespace the
 * overlay keeps its own attributes in `user.overlay.*` xattrs
 * (`userxattr`): the kernel refuses `trusted.*` there. `volatile`: the
 * upper is thrown away, so the unmount at the end of the run need not
 * flush it (without it, the upper's whole file system is synced). Pure.
 */
export function overlayOptions(
  plan: Pick<OverlayPlan, "lower" | "upper" | "work">,
  inUserNamespace: boolean,
): string | undefined {
  const paths = [plan.lower, plan.upper, plan.work];
  if (!paths.every(safeOptionPath)) return undefined;
  return `lowerdir=${plan.lower},upperdir=${plan.upper},workdir=${plan.work}${
    inUserNamespace ? ",userxattr" : ""
  },volatile`;
}

/**
 * Read-only options that show a finished run's result: its upper over the
 * entry, whiteouts and opaque directories honoured by the kernel (for
 * `--keep`). No upper and work: nothing is written. Pure.
 */
export function resultOptions(
  plan: Pick<OverlayPlan, "lower" | "upper">,
  inUserNamespace: boolean,
): string | undefined {
  if (![plan.lower, plan.upper].every(safeOptionPath)) return undefined;
  return `ro,lowerdir=${plan.upper}:${plan.lower}${
    inUserNamespace ? ",userxattr" : ""
  }`;
}

/** True when `path` is absolute and can stand in overlayfs options. Pure. */
export function safeOptionPath(path: string): boolean {
  // deno-lint-ignore no-control-regex
  return path.startsWith("/") && !/[,:\\"'\x00-\x1f\x7f]/.test(path);
}

/** The script's argv: mounts `plan`, makes its mount points, execs `argv`. */
export function overlayArgv(
  plan: OverlayPlan,
  inUserNamespace: boolean,
  argv: readonly string[],
): string[] {
  const options = overlayOptions(plan, inUserNamespace);
  if (options === undefined) {
    throw new Error(`Cannot name ${plan.lower} in overlayfs options`);
  }
  return [
    plan.sh,
    "-c",
    OVERLAY_SCRIPT,
    "polythene-overlay",
    plan.mount,
    options,
    plan.merged,
    String(plan.create.length),
    ...plan.create.flatMap((c) => [c.kind, c.path]),
    ...argv,
  ];
}

/**
 * The `unshare` prefix that makes the overlay's mount namespace: a private
 * one as real root, else a user namespace with uid 0 mapped to this user.
 * Pure.
 */
export function overlayNamespace(
  unshare: string,
  host: HostInfo,
): string[] {
  return host.realRoot
    ? [unshare, "--mount", "--propagation", "private", "--"]
    : [unshare, "--user", "--map-root-user", "--mount", "--"];
}

/**
 * `invocation` run on the spec's overlay: unchanged when there is none or
 * the backend mounted it already (`overlaid`). Pure.
 */
export function withOverlay(
  invocation: Invocation,
  spec: RunSpec,
  host: HostInfo,
): Invocation {
  const plan = spec.overlay;
  if (plan === undefined || invocation.overlaid) return invocation;
  return {
    ...invocation,
    argv: [
      ...overlayNamespace(plan.unshare, host),
      ...overlayArgv(plan, !host.realRoot, invocation.argv),
    ],
    overlaid: true,
  };
}
