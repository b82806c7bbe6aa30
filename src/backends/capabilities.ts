/**
 * The capabilities a guest keeps as root: Docker's default set, and nothing
 * more, on every backend. bubblewrap drops the rest itself (`--cap-drop ALL`
 * then `--cap-add` each); proot and chroot, which would otherwise hand the
 * guest every capability of real root, run under util-linux `setpriv`, which
 * also narrows the bounding set and sets `no_new_privs`.
 *
 * Left out, among others: `CAP_DAC_READ_SEARCH` (`open_by_handle_at`, the
 * "shocker" escape), `CAP_SYS_ADMIN` (mount, namespaces), `CAP_SYS_PTRACE`,
 * `CAP_SYS_MODULE`, `CAP_SYS_RAWIO`, `CAP_NET_ADMIN`.
 *
 * @module
 */

import type { HostInfo } from "./backend.ts";

/** Docker's default capability set, as bubblewrap spells them. */
export const GUEST_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_RAW",
  "CAP_SYS_CHROOT",
  "CAP_MKNOD",
  "CAP_AUDIT_WRITE",
  "CAP_SETFCAP",
] as const;

/**
 * bwrap's flags that leave a root guest exactly {@linkcode GUEST_CAPABILITIES}
 * in its effective, permitted, inheritable and ambient sets. Pure.
 */
export function bwrapCapabilityArgs(): string[] {
  return [
    "--cap-drop",
    "ALL",
    ...GUEST_CAPABILITIES.flatMap((cap) => ["--cap-add", cap]),
  ];
}

/**
 * `setpriv`'s flags that narrow the bounding, inheritable and ambient sets
 * to {@linkcode GUEST_CAPABILITIES} and set `no_new_privs`. A root process
 * exec'd after them has exactly that set; one that changes to another uid
 * loses it all. Pure.
 */
export function setprivArgs(): string[] {
  const caps = "-all," +
    GUEST_CAPABILITIES.map((cap) => `+${cap.slice(4).toLowerCase()}`).join(
      ",",
    );
  return [
    "--no-new-privs",
    `--inh-caps=${caps}`,
    `--ambient-caps=${caps}`,
    `--bounding-set=${caps}`,
  ];
}

/**
 * `argv` behind `setpriv` ({@linkcode setprivArgs}) as real root, else
 * unchanged. Pure.
 *
 * @param setpriv The host path of `setpriv`; needed as real root.
 */
export function underSetpriv(
  argv: string[],
  host: HostInfo,
  setpriv: string | undefined,
): string[] {
  if (!host.realRoot) return argv;
  if (setpriv === undefined) throw new Error("setpriv is needed as real root");
  return [setpriv, ...setprivArgs(), "--", ...argv];
}
