/**
 * A private binfmt_misc instance for one run: how bubblewrap (and, as root,
 * chroot) runs an image of another architecture when the host has no
 * binfmt_misc entry for it.
 *
 * Since Linux 6.7 a user namespace may mount a binfmt_misc instance of its
 * own; the kernel looks an exec's handler up in the instance of the nearest
 * user namespace (the run's own, or an ancestor) that has one. So a run
 * makes a user namespace with a mount namespace, mounts binfmt_misc on a
 * directory of the run's private directory (never the host's
 * `/proc/sys/fs/binfmt_misc`), registers the host's static qemu there with
 * the `F` and `P` flags ({@linkcode BINFMT_SCRIPT}: the kernel opens the interpreter
 * at registration, from the host, so it is never a file of the image), then
 * execs bwrap, whose own user namespace is a child of that one. The
 * instance ends with the namespace; the host-wide one is never written.
 *
 * The namespace around it depends on who runs:
 * - an unprivileged user: `unshare --user --map-root-user --mount` (or, in
 *   full id maps, the `unshare --map-auto` that `id_map_bwrap.ts` makes
 *   anyway, with `--mount`), as the overlay does (`overlay.ts`);
 * - real root: a user namespace with the host's whole id range mapped onto
 *   itself, so files keep their owners ({@linkcode ROOT_USERNS_SCRIPT}:
 *   util-linux 2.38 maps ranges only through newuidmap, which wants
 *   `/etc/subuid`, so a child of the script writes the maps as root).
 *   bwrap runs there as uid 0 with no user namespace of its own and keeps
 *   Docker's default capabilities, which now count only in that namespace:
 *   never more than as real root. chroot runs there the same way.
 *
 * Pure.
 *
 * @module
 */

import type { BinfmtEntry, Emulation, PrivateBinfmt } from "./emulation.ts";

export type { PrivateBinfmt };

/** The oldest kernel that gives a user namespace its own binfmt_misc. */
export const PRIVATE_BINFMT_KERNEL = [6, 7] as const;

/**
 * ELF magic and mask of each architecture, as Debian's qemu-user-static
 * registers them (`/usr/share/binfmts/qemu-ARCH`).
 */
const ELF_MAGIC: Readonly<Record<string, { magic: string; mask: string }>> = {
  aarch64: {
    magic: elf("02 01 01", "02 00 b7 00"),
    mask: MASK_LE(),
  },
  arm: {
    magic: elf("01 01 01", "02 00 28 00"),
    mask: MASK_LE(),
  },
  riscv64: {
    magic: elf("02 01 01", "02 00 f3 00"),
    mask: MASK_LE(),
  },
  ppc64le: {
    magic: elf("02 01 01", "02 00 15 00"),
    mask: hex(
      "ff ff ff ff ff ff ff fc ff ff ff ff ff ff ff ff fe ff ff 00",
    ),
  },
  s390x: {
    magic: elf("02 02 01", "00 02 00 16"),
    mask: hex(
      "ff ff ff ff ff ff ff fc ff ff ff ff ff ff ff ff ff fe ff ff",
    ),
  },
};

function MASK_LE(): string {
  return hex("ff ff ff ff ff ff ff 00 ff ff ff ff ff ff ff ff fe ff ff ff");
}

/** `\x7fELF`, class/data/version, eight zero bytes pad, type and machine. */
function elf(ident: string, typeMachine: string): string {
  return hex(`7f 45 4c 46 ${ident} 00 00 00 00 00 00 00 00 00 ${typeMachine}`);
}

function hex(bytes: string): string {
  return bytes.split(" ").map((b) => `\\x${b}`).join("");
}

/** binfmt_misc's magic and mask for `arch`, or undefined. Pure. */
export function elfMagic(
  arch: string,
): { magic: string; mask: string } | undefined {
  return ELF_MAGIC[arch];
}

/**
 * Whether a host binfmt_misc entry lets bubblewrap and chroot run the
 * image: enabled, with the `F` flag. Pure.
 */
export function hostEntryUsable(entry: BinfmtEntry | undefined): boolean {
  return entry !== undefined && entry.enabled && entry.flags.includes("F");
}

/**
 * Why no private binfmt_misc instance can serve `emulation` here (one
 * line), before anything is tried, or undefined when one may: the kernel
 * is at least 6.7, qemu-user knows the architecture, its ELF magic is known,
 * and the qemu found is a static build (`qemu-ARCH-static`: the kernel
 * starts the interpreter in the guest's file system, where a dynamic one's
 * loader is not) whose path the register line can carry. Pure.
 */
export function privateBinfmtRefusal(
  kernel: string,
  emulation: Pick<Emulation, "arch" | "qemu">,
): string | undefined {
  if (!kernelAtLeast(kernel, PRIVATE_BINFMT_KERNEL)) {
    return `kernel ${kernel} is older than 6.7, which gives a user namespace a binfmt_misc of its own`;
  }
  const { arch, qemu } = emulation;
  if (arch === undefined || elfMagic(arch) === undefined) {
    return `no binfmt_misc magic known for this architecture`;
  }
  if (qemu === undefined || !qemu.endsWith(`/qemu-${arch}-static`)) {
    return `no qemu-${arch}-static (a static build) on PATH`;
  }
  // deno-lint-ignore no-control-regex
  if (!qemu.startsWith("/") || /[:\x00-\x1f\x7f]/.test(qemu)) {
    return `the path ${qemu} cannot stand in a binfmt_misc register line`;
  }
  return undefined;
}

/** True when `kernel` (`uname -r`) is at least `min`. Pure. */
export function kernelAtLeast(
  kernel: string,
  min: readonly [number, number],
): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

/**
 * The fixed script, run as uid 0 of a user namespace with a mount
 * namespace of its own: waits until the namespace's uid map is written
 * (for real root, by {@linkcode ROOT_USERNS_SCRIPT}'s child), mounts a
 * binfmt_misc instance on `$1` with the `mount` program `$6`, registers on
 * it `$2` the name, `$3` magic, `$4` mask, `$5` the interpreter, with the
 * `F` flag (the kernel opens the interpreter now, from the host) and `P`
 * (argv[0] preserved, as Debian registers it: a busybox shell that runs an
 * applet by exec'ing `/proc/self/exe` under another argv[0] would
 * otherwise start its shell again); then execs the rest. Values are
 * positional parameters, never part of the script. The environment is the
 * backend's (for chroot, the command's): the wait runs in a subshell with
 * a fixed PATH, and nothing of the script's is left for the command.
 */
export const BINFMT_SCRIPT = `set -eu
(
  PATH=/usr/sbin:/usr/bin:/sbin:/bin
  _p_i=0
  until read -r _p_m < /proc/self/uid_map 2>/dev/null; do
    _p_i=$((_p_i + 1))
    if [ "$_p_i" -gt 400 ]; then
      echo "polythene: the user namespace got no uid map" >&2
      exit 125
    fi
    sleep 0.005
  done
)
"$6" -t binfmt_misc -- polythene-binfmt "$1"
printf '%s' ":$2:M::$3:$4:$5:PF" > "$1/register"
shift 6
exec "$@"
`;

/**
 * The fixed script for real root: `$1` the `unshare` program. A child of
 * the script waits until the script's process (`$$`, which execs
 * `unshare`) is in a new user namespace, then maps the host's whole uid
 * and gid range onto itself in it, and exits; it gives up after a bound.
 * The process keeps its pid through the execs, so the process tree is as
 * without it.
 */
export const ROOT_USERNS_SCRIPT = `set -eu
_p_unshare=$1
shift
(
  PATH=/usr/sbin:/usr/bin:/sbin:/bin
  _p_i=0
  while [ /proc/$$/ns/user -ef /proc/self/ns/user ]; do
    _p_i=$((_p_i + 1))
    if [ "$_p_i" -gt 400 ]; then exit 1; fi
    sleep 0.005
  done
  printf '0 0 4294967295\\n' > /proc/$$/uid_map
  printf '0 0 4294967295\\n' > /proc/$$/gid_map
) </dev/null >/dev/null 2>&1 &
exec "$_p_unshare" --user --mount --propagation private -- "$@"
`;

/** `argv` after the registration in `plan`'s instance. Pure. */
export function binfmtArgv(
  plan: PrivateBinfmt,
  argv: readonly string[],
): string[] {
  return [
    plan.sh,
    "-c",
    BINFMT_SCRIPT,
    "polythene-binfmt",
    plan.dir,
    plan.name,
    plan.magic,
    plan.mask,
    plan.qemu,
    plan.mount,
    ...argv,
  ];
}

/**
 * `argv` with a private instance, in the namespace real root or a user
 * needs (not for full id maps: `id_map_bwrap.ts` makes that namespace).
 * Pure.
 */
export function withPrivateBinfmt(
  plan: PrivateBinfmt,
  realRoot: boolean,
  argv: readonly string[],
): string[] {
  return [...binfmtNamespace(plan, realRoot), ...binfmtArgv(plan, argv)];
}

/** The namespace prefix of {@linkcode withPrivateBinfmt}. Pure. */
export function binfmtNamespace(
  plan: Pick<PrivateBinfmt, "sh" | "unshare">,
  realRoot: boolean,
): string[] {
  return realRoot
    ? [plan.sh, "-c", ROOT_USERNS_SCRIPT, "polythene-userns", plan.unshare]
    : [plan.unshare, "--user", "--map-root-user", "--mount", "--"];
}

/**
 * The private instance a run of `emulation` on bubblewrap uses, or
 * undefined when the host's own entry serves (or there is none to use).
 * Pure.
 */
export function privateBinfmtOf(
  emulation: Emulation | undefined,
): PrivateBinfmt | undefined {
  if (emulation === undefined || hostEntryUsable(emulation.binfmt)) {
    return undefined;
  }
  return emulation.privateBinfmt;
}
