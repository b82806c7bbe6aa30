import { assertEquals } from "../../helpers/assert.ts";
import {
  archReport,
  qemuOnPath,
} from "../../../src/backends/doctor_emulation.ts";
import { formatEmulation } from "../../../src/cli/doctor.ts";

Deno.test("qemuOnPath() keeps known foreign architectures, -static first", () => {
  const found = qemuOnPath([
    ["/usr/local/bin", "qemu-aarch64"],
    ["/usr/bin", "qemu-aarch64-static"],
    ["/usr/bin", "qemu-x86_64-static"],
    ["/usr/bin", "qemu-i386-static"],
    ["/usr/bin", "qemu-aarch64_be-static"],
    ["/usr/bin", "qemu-system-aarch64"],
    ["/usr/bin", "qemu-img"],
    ["/usr/bin", "qemu-riscv64"],
  ], "amd64");
  assertEquals(found, [
    { arch: "aarch64", qemu: "/usr/bin/qemu-aarch64-static" },
    { arch: "riscv64", qemu: "/usr/bin/qemu-riscv64" },
  ]);
});

Deno.test("qemuOnPath() on arm64 reports x86_64 and not aarch64", () => {
  assertEquals(
    qemuOnPath([
      ["/usr/bin", "qemu-aarch64-static"],
      ["/usr/bin", "qemu-x86_64-static"],
    ], "arm64"),
    [{ arch: "x86_64", qemu: "/usr/bin/qemu-x86_64-static" }],
  );
});

const ALL_USABLE = [
  { name: "bubblewrap" as const, usable: true },
  { name: "proot" as const, usable: true },
  { name: "chroot" as const, usable: false },
];

Deno.test("archReport() without a binfmt entry: proot only, with the fixes", () => {
  const report = archReport(
    "aarch64",
    "/usr/bin/qemu-aarch64-static",
    undefined,
    ALL_USABLE,
  );
  assertEquals(report.platform, "linux/arm64");
  assertEquals(report.binfmt, null);
  assertEquals(report.backends.map((b) => [b.name, b.usable]), [
    ["bubblewrap", false],
    ["proot", true],
    ["chroot", false],
  ]);
  assertEquals(
    report.backends[0]!.fix,
    "as root: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-aarch64",
  );
  assertEquals(
    report.backends[0]!.reason,
    "cannot run linux/arm64 images: the kernel has no binfmt_misc entry qemu-aarch64",
  );
});

Deno.test("archReport() with an F entry: every backend that works here", () => {
  const report = archReport("aarch64", "/q", {
    enabled: true,
    interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
    flags: "POF",
  }, ALL_USABLE);
  assertEquals(report.backends.map((b) => [b.name, b.usable, b.reason]), [
    ["bubblewrap", true, null],
    ["proot", true, null],
    ["chroot", false, "unusable on this host (see above)"],
  ]);
});

Deno.test("formatEmulation() names the fix, or says none is on PATH", () => {
  assertEquals(formatEmulation([]).length, 1);
  assertEquals(
    formatEmulation([]).join().includes("apt-get install qemu-user-static"),
    true,
  );
  const lines = formatEmulation([
    archReport(
      "aarch64",
      "/usr/bin/qemu-aarch64-static",
      undefined,
      ALL_USABLE,
    ),
  ]);
  assertEquals(
    lines[1],
    "  linux/arm64 (aarch64): /usr/bin/qemu-aarch64-static; no binfmt_misc entry",
  );
  assertEquals(lines[3], "    proot: works");
  assertEquals(
    lines[2]!.endsWith("update-binfmts --enable qemu-aarch64"),
    true,
  );
});

Deno.test("archReport() with a private binfmt_misc instance: bubblewrap works over it", () => {
  const report = archReport(
    "aarch64",
    "/usr/bin/qemu-aarch64-static",
    undefined,
    ALL_USABLE,
    true,
  );
  assertEquals(report.privateBinfmt, { usable: true, reason: null });
  assertEquals(report.backends.map((b) => [b.name, b.usable]), [
    ["bubblewrap", true],
    ["proot", true],
    ["chroot", false],
  ]);
  assertEquals(report.backends[0]!.privateBinfmt, true);
  assertEquals(
    formatEmulation([report])[2],
    "    bubblewrap: works (over a private binfmt_misc instance)",
  );
  const old = archReport(
    "aarch64",
    "/usr/bin/qemu-aarch64-static",
    undefined,
    ALL_USABLE,
    "kernel 6.1 is older than 6.7",
  );
  assertEquals(old.privateBinfmt, {
    usable: false,
    reason: "kernel 6.1 is older than 6.7",
  });
  assertEquals(old.backends[0]!.usable, false);
  assertEquals(
    old.backends[0]!.reason,
    "cannot run linux/arm64 images: the kernel has no binfmt_misc entry qemu-aarch64, and no private instance (kernel 6.1 is older than 6.7)",
  );
  // The host's entry serves: no private instance is asked for.
  const host = archReport(
    "aarch64",
    "/usr/bin/qemu-aarch64-static",
    { enabled: true, interpreter: "/usr/bin/qemu-aarch64-static", flags: "F" },
    ALL_USABLE,
    true,
  );
  assertEquals(host.privateBinfmt, null);
  assertEquals(host.backends[0]!.privateBinfmt, undefined);
});
