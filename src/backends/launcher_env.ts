/**
 * Keeping the command's environment off host-side launchers. bwrap takes the
 * environment as `--setenv` arguments and applies it after setup; proot and
 * the chroot script would pass their own process environment on, so a
 * `LD_PRELOAD` set by an image would be loaded into the host's proot, `sh`
 * or `chroot`. Instead they run the command through the rootfs's own
 * `env -i KEY=VALUE... CMD`, with a clean environment of their own.
 *
 * @module
 */

import type { RunSpec } from "./backend.ts";
import { DEFAULT_PATH } from "./backend.ts";

/**
 * Variables that change how a host-side launcher (proot, or chroot's
 * `unshare`, `sh` and `mount`) itself runs: the dynamic loader's, glibc's
 * unsecure list, util-linux's libraries' and proot's own. They must reach
 * only the command. (`PATH` is not among them: the chroot script uses a fixed
 * `PATH` for its own tools and gives the command's back only to the final
 * `unshare`, which resolves the command inside the rootfs.)
 */
export function affectsLauncher(key: string): boolean {
  return /^(LD_|PROOT_|MALLOC_|LIBMOUNT_|LIBBLKID_|LIBSMARTCOLS_)/.test(key) ||
    [
      "GCONV_PATH",
      "GETCONF_DIR",
      "HOSTALIASES",
      "LOCALDOMAIN",
      "LOCPATH",
      "NIS_PATH",
      "NLSPATH",
      "RESOLV_HOST_CONF",
      "RES_OPTIONS",
      "TMPDIR",
      "TZDIR",
    ].includes(key);
}

/**
 * The command as the launcher runs it: through the rootfs's `env -i`, with
 * the command's environment as arguments, when the rootfs has an `env`. Pure.
 */
export function guestArgv(spec: RunSpec): string[] {
  if (spec.envProgram === undefined) return [...spec.argv];
  return [
    spec.envProgram,
    "-i",
    ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...spec.argv,
  ];
}

/**
 * The environment of a host-side launcher that passes its own environment
 * to the command: clean when the command goes through `env -i`, else the
 * command's (which `refusesEnv` has checked). Pure.
 */
export function launcherEnv(spec: RunSpec): Record<string, string> {
  return spec.envProgram === undefined ? { ...spec.env } : {
    PATH: DEFAULT_PATH,
  };
}

/**
 * Why a launcher that inherits the command's environment cannot run
 * `spec`: the command's environment would change how the launcher itself
 * runs, and the rootfs has no `env` to keep it off. Pure.
 */
export function refusesEnv(spec: RunSpec, name: string): string | undefined {
  if (spec.envProgram !== undefined) {
    if (spec.argv[0]?.includes("=")) {
      return `a program name containing "=" cannot be run through env`;
    }
    return undefined;
  }
  const keys = Object.keys(spec.env).filter(affectsLauncher);
  if (keys.length === 0) return undefined;
  return `the command's environment sets ${
    keys.join(", ")
  }, which would reach ${name} itself, and the rootfs has no "env" program to keep it off`;
}
