/**
 * Passing the command's environment through proot and chroot's host-side
 * launchers without putting it in any argv (every local user can read
 * `/proc/PID/cmdline`; only the owner can read `/proc/PID/environ`), and
 * without letting it change how the launchers themselves run.
 *
 * The launcher is started with the command's environment as its own, which
 * proot and `unshare --root` hand on to the command. The variables that would
 * change how a launcher runs (`LD_PRELOAD`, `PROOT_*`, `TMPDIR`...: see
 * {@linkcode affectsLauncher}) travel renamed, as `POLYTHENE_ENV_KEY`, and the
 * rootfs's own `sh`, already inside the sandbox, renames them back just before
 * it execs the command ({@linkcode GUEST_ENV_SCRIPT}). Only their names are in
 * its argv. A rootfs without `sh` cannot take such variables: the backend
 * refuses the run ({@linkcode refusesEnv}).
 *
 * @module
 */

import type { RunSpec } from "./backend.ts";

/** The prefix under which launcher-affecting variables travel. */
export const RENAMED_PREFIX = "POLYTHENE_ENV_";

/**
 * Variables that change how a host-side launcher (proot, or chroot's
 * `unshare`, `sh` and `mount`, and `setpriv` in front of either as root,
 * and the `perl` that loads proot's compat filter) itself runs: the dynamic
 * loader's, glibc's
 * unsecure list, util-linux's libraries', proot's own, Perl's (`PERL5OPT`,
 * `PERL5LIB`...), and those a `sh` reads at start. They must reach only the command. (`PATH` is not among
 * them: the chroot script uses a fixed `PATH` for its own tools and gives
 * the command's back only to the final `unshare`, which resolves the command
 * inside the rootfs.)
 */
export function affectsLauncher(key: string): boolean {
  return /^(LD_|PROOT_|PERL|MALLOC_|LIBMOUNT_|LIBBLKID_|LIBSMARTCOLS_|BASH_FUNC_|POLYTHENE_ENV_)/
    .test(key) ||
    [
      "BASH_ENV",
      "ENV",
      "GCONV_PATH",
      "GETCONF_DIR",
      "HOSTALIASES",
      "LOCALDOMAIN",
      "LOCPATH",
      "NIS_PATH",
      "NLSPATH",
      "RESOLV_HOST_CONF",
      "RES_OPTIONS",
      "SHELLOPTS",
      "TMPDIR",
      "TZDIR",
    ].includes(key);
}

/**
 * The fixed script the rootfs's `sh` runs inside the sandbox: `$1` is how
 * many names follow; each `POLYTHENE_ENV_NAME` becomes `NAME` again; then
 * the command is exec'd. Names are checked to be shell names before they
 * get here; values are never in the argv. A `sh` such as busybox's sets
 * `SHLVL` as it starts: it is unset, and travels renamed when the command's
 * environment has it.
 */
export const GUEST_ENV_SCRIPT = `unset SHLVL; _polythene_n=$1; shift
while [ "$_polythene_n" -gt 0 ]; do
  eval "export $1=\\"\\\${${RENAMED_PREFIX}$1}\\"; unset ${RENAMED_PREFIX}$1"
  shift; _polythene_n=$((_polythene_n - 1))
done
unset _polythene_n
exec "$@"`;

function renamed(spec: RunSpec): string[] {
  return Object.keys(spec.env).filter(affectsLauncher);
}

/** What travels renamed: the launcher-affecting keys, and `SHLVL` when a
 * guest `sh` runs. */
function travelling(spec: RunSpec): string[] {
  const names = renamed(spec);
  if (names.length === 0 || spec.guestShell === undefined) return names;
  return "SHLVL" in spec.env ? [...names, "SHLVL"] : names;
}

/**
 * The command as the launcher runs it: as is, or through the rootfs's `sh`
 * and {@linkcode GUEST_ENV_SCRIPT} when variables travel renamed. Pure.
 */
export function guestArgv(spec: RunSpec): string[] {
  const names = travelling(spec);
  if (names.length === 0 || spec.guestShell === undefined) {
    return [...spec.argv];
  }
  return [
    spec.guestShell,
    "-c",
    GUEST_ENV_SCRIPT,
    "polythene-env",
    String(names.length),
    ...names,
    ...spec.argv,
  ];
}

/**
 * The launcher's own environment: the command's, with the variables that
 * would affect the launcher renamed. Pure.
 */
export function launcherEnv(spec: RunSpec): Record<string, string> {
  const names = travelling(spec);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env)) {
    env[names.includes(key) ? `${RENAMED_PREFIX}${key}` : key] = value;
  }
  return env;
}

/**
 * Why a launcher cannot run `spec`: its environment sets variables that
 * would change how the launcher runs, and the rootfs has no `sh` to rename
 * them back (or one is not a shell name). Pure.
 */
export function refusesEnv(spec: RunSpec, name: string): string | undefined {
  const keys = renamed(spec);
  if (keys.length === 0) return undefined;
  const odd = keys.find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  if (odd !== undefined) {
    return `the command's environment sets "${odd}", which would reach ${name} itself and is not a name a shell can set`;
  }
  if (spec.guestShell !== undefined) return undefined;
  return `the command's environment sets ${
    keys.join(", ")
  }, which would reach ${name} itself, and the rootfs has no "sh" to keep it off`;
}
