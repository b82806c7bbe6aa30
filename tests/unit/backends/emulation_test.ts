import { assertEquals } from "../../helpers/assert.ts";
import {
  type Emulation,
  emulationFix,
  emulationRefusal,
  needsEmulation,
  parseBinfmtEntry,
  qemuArch,
  qemuCandidates,
} from "../../../src/backends/emulation.ts";
import { prootArgs } from "../../../src/backends/proot.ts";
import type { RunSpec } from "../../../src/backends/backend.ts";

const amd64 = { architecture: "amd64" };
const arm64 = { architecture: "arm64", variant: "v8" };

Deno.test("qemuArch() names qemu-user's emulator for each OCI architecture", () => {
  assertEquals(qemuArch(arm64), "aarch64");
  assertEquals(qemuArch(amd64), "x86_64");
  assertEquals(qemuArch({ architecture: "arm", variant: "v7" }), "arm");
  assertEquals(qemuArch({ architecture: "arm", variant: "v8" }), "arm");
  assertEquals(qemuArch({ architecture: "386" }), "i386");
  assertEquals(qemuArch({ architecture: "ppc64le" }), "ppc64le");
  assertEquals(qemuArch({ architecture: "s390x" }), "s390x");
  assertEquals(qemuArch({ architecture: "riscv64" }), "riscv64");
  assertEquals(qemuArch({ architecture: "mips64le" }), "mips64el");
  assertEquals(qemuArch({ architecture: "wasm" }), undefined);
});

Deno.test("needsEmulation() compares the recorded architecture only", () => {
  assertEquals(needsEmulation(arm64, amd64), true);
  assertEquals(needsEmulation(amd64, arm64), true);
  assertEquals(needsEmulation(amd64, amd64), false);
  assertEquals(needsEmulation({ architecture: "arm64" }, arm64), false);
  // The kernel runs i386 binaries on x86_64 itself.
  assertEquals(needsEmulation({ architecture: "386" }, amd64), false);
  assertEquals(needsEmulation(amd64, { architecture: "386" }), true);
  // An entry with no recorded platform runs natively.
  assertEquals(needsEmulation(undefined, amd64), false);
});

Deno.test("qemuCandidates() prefers the static build", () => {
  assertEquals(qemuCandidates("aarch64"), [
    "qemu-aarch64-static",
    "qemu-aarch64",
  ]);
});

Deno.test("parseBinfmtEntry() reads enabled, interpreter and flags", () => {
  const entry = parseBinfmtEntry(
    "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c46\n",
  );
  assertEquals(entry, {
    enabled: true,
    interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
    flags: "POCF",
  });
  assertEquals(parseBinfmtEntry("disabled\nflags: \n").enabled, false);
  assertEquals(parseBinfmtEntry("disabled\nflags: \n").flags, "");
});

const base: Emulation = { platform: "linux/arm64/v8", arch: "aarch64" };
const withQemu = { ...base, qemu: "/usr/bin/qemu-aarch64-static" };
const fixed = {
  ...base,
  binfmt: { enabled: true, interpreter: "/q", flags: "PF" },
};

Deno.test("proot emulates with a qemu binary on PATH, and needs nothing else", () => {
  assertEquals(emulationRefusal("proot", withQemu), undefined);
  assertEquals(
    emulationRefusal("proot", { ...fixed }),
    "cannot run linux/arm64/v8 images: no qemu-aarch64-static or qemu-aarch64 on PATH",
  );
});

Deno.test("bubblewrap and chroot need an enabled binfmt_misc entry with the F flag", () => {
  for (const backend of ["bubblewrap", "chroot"] as const) {
    assertEquals(emulationRefusal(backend, fixed), undefined);
    assertEquals(
      emulationRefusal(backend, withQemu),
      "cannot run linux/arm64/v8 images: the kernel has no binfmt_misc entry qemu-aarch64",
    );
    assertEquals(
      emulationRefusal(backend, {
        ...base,
        binfmt: { enabled: true, interpreter: "/q", flags: "P" },
      })?.includes("lacks the F flag"),
      true,
    );
    assertEquals(
      emulationRefusal(backend, {
        ...base,
        binfmt: { enabled: false, interpreter: "/q", flags: "F" },
      })?.includes("is disabled"),
      true,
    );
  }
});

Deno.test("an architecture qemu-user lacks is refused by every backend", () => {
  for (const backend of ["bubblewrap", "proot", "chroot"] as const) {
    assertEquals(
      emulationRefusal(backend, { platform: "linux/wasm" }),
      "cannot run linux/wasm images: qemu-user has no emulator for that architecture",
    );
  }
});

Deno.test("the fixes name the package and the update-binfmts line", () => {
  assertEquals(
    emulationFix("proot", "aarch64"),
    "apt-get install qemu-user-static",
  );
  assertEquals(
    emulationFix("chroot", "aarch64"),
    "as root: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-aarch64",
  );
});

Deno.test("proot runs a foreign image under -q QEMU, before the rootfs", () => {
  const spec: RunSpec = {
    rootfs: "/s/u",
    argv: ["uname", "-m"],
    env: {},
    cwd: "/",
    terminal: false,
    emulation: withQemu,
  };
  const args = prootArgs(spec);
  assertEquals(args.slice(0, 4), [
    "-q",
    "/usr/bin/qemu-aarch64-static",
    "-r",
    "/s/u",
  ]);
  assertEquals(
    prootArgs({ ...spec, emulation: undefined }).includes("-q"),
    false,
  );
});
