/**
 * `doctor`'s emulation section: for each architecture that has a qemu-user
 * binary on PATH (`qemu-ARCH-static` or `qemu-ARCH`), which backends could
 * run its images and, for the others, why not and what to do. The verdict
 * is `exec`'s own (`emulationRefusal`), combined with whether the backend
 * works here at all.
 *
 * Where the host has no usable entry, bubblewrap's verdict also depends on
 * whether a private binfmt_misc instance can be made (`binfmt.ts`): the
 * caller's check, which is `exec`'s own probe.
 *
 * {@linkcode qemuOnPath} and {@linkcode archReport} are pure;
 * {@linkcode emulationReports} reads PATH and the binfmt_misc entries.
 *
 * Permissions: `--allow-read` (PATH), `--allow-run=sh,unshare`.
 *
 * @module
 */

import {
  type BinfmtEntry,
  emulationFix,
  emulationRefusal,
  needsEmulation,
  ociArch,
  type PrivateBinfmt,
} from "./emulation.ts";
import { readBinfmtEntry } from "./emulation_host.ts";
import { hostEntryUsable } from "./binfmt.ts";
import type { BackendName } from "./names.ts";

/** One backend's verdict for one architecture. */
export interface ArchBackend {
  /** The backend. */
  name: BackendName;
  /** True when `exec` could run this architecture's images in it. */
  usable: boolean;
  /** Why not, or null. */
  reason: string | null;
  /** What to do, or null. */
  fix: string | null;
  /** True when it runs over a private binfmt_misc instance (not proot). */
  privateBinfmt?: boolean;
}

/** One architecture with a qemu binary on PATH. */
export interface ArchReport {
  /** qemu-user's name, e.g. `aarch64`. */
  arch: string;
  /** The image platform it runs, e.g. `linux/arm64`. */
  platform: string;
  /** The qemu binary exec would give proot. */
  qemu: string;
  /** The kernel's binfmt_misc entry `qemu-ARCH`, or null. */
  binfmt: BinfmtEntry | null;
  /**
   * Whether bubblewrap can register qemu in a private binfmt_misc
   * instance, and why not; null when the host's entry serves.
   */
  privateBinfmt: { usable: boolean; reason: string | null } | null;
  /** Every backend, in the order `exec` tries them. */
  backends: ArchBackend[];
}

/**
 * The architectures that `names` (file names found in PATH's directories,
 * in PATH order) hold a qemu-user binary for, each with the first binary,
 * `-static` preferred; the host's own architecture and those polythene knows
 * no image platform for are left out. Pure.
 *
 * @param names `[directory, file name]` pairs.
 * @param hostArch The host's OCI architecture (`amd64`).
 */
export function qemuOnPath(
  names: readonly [string, string][],
  hostArch: string,
): { arch: string; qemu: string }[] {
  const found = new Map<string, { qemu: string; isStatic: boolean }>();
  for (const [dir, name] of names) {
    const m = /^qemu-([a-z0-9_]+?)(-static)?$/.exec(name);
    if (m === null) continue;
    const arch = m[1]!;
    const oci = ociArch(arch);
    if (oci === undefined) continue;
    if (!needsEmulation({ architecture: oci }, { architecture: hostArch })) {
      continue;
    }
    const isStatic = m[2] !== undefined;
    const seen = found.get(arch);
    if (seen === undefined || (isStatic && !seen.isStatic)) {
      found.set(arch, { qemu: `${dir}/${name}`, isStatic });
    }
  }
  return [...found.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([arch, { qemu }]) => ({ arch, qemu }));
}

/**
 * One architecture's report. Pure.
 *
 * @param usable Each backend, in exec's order, with whether it works here
 * at all (doctor's own verdict).
 * @param privateVerdict `true` when a private binfmt_misc instance can be
 * made, else why not (undefined: not checked, so not counted on); ignored
 * when the host's entry serves.
 */
export function archReport(
  arch: string,
  qemu: string,
  binfmt: BinfmtEntry | undefined,
  usable: readonly { name: BackendName; usable: boolean }[],
  privateVerdict?: true | string,
): ArchReport {
  const oci = ociArch(arch)!;
  const platform = `linux/${oci}`;
  const viaPrivate = !hostEntryUsable(binfmt) && privateVerdict === true;
  const privateRefusal = typeof privateVerdict === "string"
    ? privateVerdict
    : undefined;
  const emulation = {
    platform,
    arch,
    qemu,
    ...(binfmt === undefined ? {} : { binfmt }),
    ...(hostEntryUsable(binfmt) ? {} : viaPrivate
      // Only its presence counts for the verdict.
      ? { privateBinfmt: {} as PrivateBinfmt }
      : privateRefusal === undefined
      ? {}
      : { privateRefusal }),
  };
  return {
    arch,
    platform,
    qemu,
    binfmt: binfmt ?? null,
    privateBinfmt: hostEntryUsable(binfmt) ? null : {
      usable: viaPrivate,
      reason: privateRefusal ?? null,
    },
    backends: usable.map(({ name, usable }) => {
      const refusal = emulationRefusal(name, emulation);
      if (refusal !== undefined) {
        return {
          name,
          usable: false,
          reason: refusal,
          fix: emulationFix(name, arch),
        };
      }
      const over = name !== "proot" && viaPrivate
        ? { privateBinfmt: true }
        : {};
      return usable
        ? { name, usable: true, reason: null, fix: null, ...over }
        : {
          name,
          usable: false,
          reason: "unusable on this host (see above)",
          fix: null,
        };
    }),
  };
}

/**
 * The report for each architecture with a qemu binary on `hostPath`.
 *
 * @param usable Each backend with whether it works here at all.
 * @param privateCheck Why no private binfmt_misc instance can serve
 * `qemu` for `arch` (undefined: one can); asked only where the host has no
 * usable entry.
 */
export async function emulationReports(
  hostPath: string,
  hostArch: string,
  usable: readonly { name: BackendName; usable: boolean }[],
  privateCheck: (arch: string, qemu: string) => Promise<string | undefined>,
): Promise<ArchReport[]> {
  const names: [string, string][] = [];
  for (const dir of hostPath.split(":")) {
    if (!dir.startsWith("/")) continue;
    try {
      for (const entry of Deno.readDirSync(dir)) {
        if (entry.name.startsWith("qemu-")) names.push([dir, entry.name]);
      }
    } catch {
      // Not a readable directory.
    }
  }
  const reports: ArchReport[] = [];
  for (const { arch, qemu } of qemuOnPath(names, hostArch)) {
    const binfmt = await readBinfmtEntry(arch, hostPath);
    const verdict = hostEntryUsable(binfmt)
      ? undefined
      : (await privateCheck(arch, qemu)) ?? true;
    reports.push(archReport(arch, qemu, binfmt, usable, verdict));
  }
  return reports;
}
