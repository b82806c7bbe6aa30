/**
 * The host side of emulation (`emulation.ts`): the qemu binary on PATH and
 * the kernel's binfmt_misc entry for an architecture. Deno may not read
 * `/proc`, so the entry is read by a fixed `sh` script running `cat`, as
 * `doctor` reads sysctls; it runs only for a foreign image.
 *
 * Permissions: `--allow-read` (PATH), `--allow-run=sh`.
 *
 * @module
 */

import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";
import {
  type ArchOf,
  type BinfmtEntry,
  type Emulation,
  parseBinfmtEntry,
  qemuArch,
  qemuCandidates,
} from "./emulation.ts";

/** Where the kernel lists binfmt_misc entries. */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/**
 * What this host has for running `platform` images: qemu's arch name, the
 * first of `qemu-ARCH-static`, `qemu-ARCH` on `hostPath`, and the kernel's
 * `qemu-ARCH` binfmt_misc entry.
 *
 * @param platform The entry's recorded platform.
 * @param label `os/arch[/variant]`, for messages.
 */
export async function detectEmulation(
  platform: ArchOf,
  label: string,
  hostPath: string,
): Promise<Emulation> {
  const arch = qemuArch(platform);
  if (arch === undefined) return { platform: label };
  const qemu = qemuCandidates(arch).map((name) => which(name, hostPath))
    .find((found) => found !== undefined)?.path;
  const binfmt = await readBinfmtEntry(arch, hostPath);
  return {
    platform: label,
    arch,
    ...(qemu === undefined ? {} : { qemu }),
    ...(binfmt === undefined ? {} : { binfmt }),
  };
}

/**
 * The kernel's binfmt_misc entry `qemu-ARCH`, or undefined when it is not
 * registered (or binfmt_misc is not mounted, or `sh` is not on PATH).
 */
export async function readBinfmtEntry(
  arch: string,
  hostPath: string,
): Promise<BinfmtEntry | undefined> {
  if (!/^[a-z0-9_]+$/.test(arch)) return undefined;
  const sh = which("sh", hostPath);
  if (sh === undefined) return undefined;
  const out = await runCaptured(
    [
      sh.path,
      "-c",
      'exec cat -- "$1"',
      "polythene-binfmt",
      `${BINFMT_DIR}/qemu-${arch}`,
    ],
    { PATH: hostPath },
  );
  return out.code === 0 ? parseBinfmtEntry(out.stdout) : undefined;
}
