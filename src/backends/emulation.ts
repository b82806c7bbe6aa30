/**
 * Foreign architectures through qemu-user: which qemu an image's recorded
 * platform needs, and whether a backend can run it. Pure: the host facts
 * (qemu on PATH, the kernel's binfmt_misc entry) come from
 * `emulation_host.ts`.
 *
 * The platform is the one `pull` recorded in the entry's metadata, never
 * read from the image's files, so an image cannot steer the choice of
 * backend. proot runs the guest through `-q QEMU` and needs only the qemu
 * binary; bubblewrap and chroot rely on the kernel: a binfmt_misc entry for
 * the architecture with the `F` flag (the kernel opened the interpreter when
 * it was registered, so it need not exist inside the rootfs).
 *
 * @example
 * ```ts
 * import { qemuArch } from "./emulation.ts";
 * qemuArch({ os: "linux", architecture: "arm64", variant: "v8" }); // "aarch64"
 * ```
 *
 * @module
 */

import type { BackendName } from "./names.ts";

/** The parts of an OCI platform that decide emulation. */
export interface ArchOf {
  /** GOARCH, e.g. `amd64`, `arm64`. */
  architecture: string;
  /** e.g. `v8` for arm64, `v7` for arm. */
  variant?: string;
}

/** OCI architecture → qemu-user's name for it (`qemu-NAME-static`). */
const QEMU_ARCH: Readonly<Record<string, string>> = {
  amd64: "x86_64",
  arm64: "aarch64",
  arm: "arm",
  "386": "i386",
  ppc64le: "ppc64le",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  mips64le: "mips64el",
  mips64: "mips64",
  mipsle: "mipsel",
  mips: "mips",
  loong64: "loongarch64",
};

/** A binfmt_misc entry as `/proc/sys/fs/binfmt_misc/NAME` shows it. */
export interface BinfmtEntry {
  /** `enabled`, not `disabled`. */
  enabled: boolean;
  /** The interpreter's path. */
  interpreter: string;
  /** The flags (`F`, `P`, `O`, `C`). */
  flags: string;
}

/** What running a foreign image needs, and what this host has of it. */
export interface Emulation {
  /** The image's platform, as `os/arch[/variant]`. */
  platform: string;
  /** qemu-user's name for the architecture, or undefined when it has none. */
  arch?: string;
  /** Absolute host path of `qemu-ARCH-static` (or `qemu-ARCH`), when found. */
  qemu?: string;
  /** The kernel's binfmt_misc entry `qemu-ARCH`, when registered. */
  binfmt?: BinfmtEntry;
  /**
   * A private binfmt_misc instance bubblewrap can register qemu in for the
   * run (`binfmt.ts`), when the host has no usable entry and one can be
   * made here.
   */
  privateBinfmt?: PrivateBinfmt;
  /** Why no private instance can be made here, when none was. */
  privateRefusal?: string;
}

/** What a run needs to register qemu in a private instance (`binfmt.ts`). */
export interface PrivateBinfmt {
  /** The directory binfmt_misc is mounted on (in the run's directory). */
  dir: string;
  /** The entry's name, `qemu-ARCH`. */
  name: string;
  /** The host's static qemu, an absolute path. */
  qemu: string;
  /** binfmt_misc's magic, as `\xNN` escapes. */
  magic: string;
  /** binfmt_misc's mask, as `\xNN` escapes. */
  mask: string;
  /** Host `sh`, absolute path. */
  sh: string;
  /** Host `mount`, absolute path. */
  mount: string;
  /** Host `unshare`, absolute path. */
  unshare: string;
  /**
   * The probe cache's key for the check that made this plan: dropped when
   * a run over the instance fails while setting up, like a backend's.
   */
  probeKey?: string;
}

/**
 * The OCI architecture qemu-user's `arch` emulates (`aarch64` → `arm64`),
 * or undefined when polythene knows no image architecture for it. Pure.
 */
export function ociArch(arch: string): string | undefined {
  return Object.entries(QEMU_ARCH).find(([, qemu]) => qemu === arch)?.[0];
}

/**
 * qemu-user's name for `platform`'s architecture (`arm64` → `aarch64`), or
 * undefined when qemu-user has no emulator for it. Pure.
 */
export function qemuArch(platform: ArchOf): string | undefined {
  // `arm/v8` is 32-bit code on an ARMv8 core: qemu-arm, not aarch64.
  return QEMU_ARCH[platform.architecture.toLowerCase()];
}

/**
 * Whether an entry of `image`'s platform needs emulation on `host`: its
 * architecture differs, except `386` on `amd64`, which the kernel runs
 * natively. An entry with no recorded platform runs natively. Pure.
 */
export function needsEmulation(
  image: ArchOf | undefined,
  host: ArchOf,
): boolean {
  if (image === undefined) return false;
  const a = image.architecture.toLowerCase();
  const b = host.architecture.toLowerCase();
  if (a === b) return false;
  return !(a === "386" && b === "amd64");
}

/** The qemu binaries that serve `arch`, in the order they are preferred. Pure. */
export function qemuCandidates(arch: string): string[] {
  return [`qemu-${arch}-static`, `qemu-${arch}`];
}

/**
 * Parses a binfmt_misc entry's text (`enabled`, `interpreter PATH`,
 * `flags: FPO`, ...). Pure.
 */
export function parseBinfmtEntry(text: string): BinfmtEntry {
  const lines = text.split("\n").map((l) => l.trim());
  return {
    enabled: lines[0] === "enabled",
    interpreter: lines.find((l) => l.startsWith("interpreter "))
      ?.slice("interpreter ".length) ?? "",
    flags: lines.find((l) => l.startsWith("flags:"))?.slice(6).trim() ?? "",
  };
}

/**
 * Why `backend` cannot run an image that needs `emulation` (one line), or
 * undefined when it can. proot needs a qemu binary on PATH; bubblewrap and
 * chroot need an enabled binfmt_misc entry with the `F` flag. Pure.
 */
export function emulationRefusal(
  backend: BackendName,
  emulation: Emulation,
): string | undefined {
  const { arch, platform } = emulation;
  if (arch === undefined) {
    return `cannot run ${platform} images: qemu-user has no emulator for that architecture`;
  }
  if (backend === "proot") {
    if (emulation.qemu !== undefined) return undefined;
    return `cannot run ${platform} images: no ${
      qemuCandidates(arch).join(" or ")
    } on PATH`;
  }
  const entry = emulation.binfmt;
  const usable = entry !== undefined && entry.enabled &&
    entry.flags.includes("F");
  // bubblewrap and chroot alike (proot was answered above).
  if (!usable && emulation.privateBinfmt) {
    return undefined;
  }
  if (entry === undefined) {
    return `cannot run ${platform} images: the kernel has no binfmt_misc entry qemu-${arch}${
      emulation.privateRefusal
        ? `, and no private instance (${emulation.privateRefusal})`
        : ""
    }`;
  }
  if (!entry.enabled) {
    return `cannot run ${platform} images: the binfmt_misc entry qemu-${arch} is disabled`;
  }
  if (!entry.flags.includes("F")) {
    return `cannot run ${platform} images: the binfmt_misc entry qemu-${arch} lacks the F flag, so its interpreter would be looked up inside the rootfs`;
  }
  return undefined;
}

/** What to do so that `backend` can run `arch` images. Pure. */
export function emulationFix(backend: BackendName, arch: string): string {
  if (backend === "proot") return "apt-get install qemu-user-static";
  return `as root: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-${arch}`;
}
