import { assertEquals } from "../../helpers/assert.ts";
import type { OverlayPlan, RunSpec } from "../../../src/backends/backend.ts";
import {
  BINFMT_SCRIPT,
  binfmtArgv,
  elfMagic,
  hostEntryUsable,
  kernelAtLeast,
  privateBinfmtOf,
  privateBinfmtRefusal,
  ROOT_USERNS_SCRIPT,
} from "../../../src/backends/binfmt.ts";
import { bubblewrap } from "../../../src/backends/bubblewrap.ts";
import { chroot } from "../../../src/backends/chroot.ts";
import {
  type Emulation,
  emulationRefusal,
  type PrivateBinfmt,
} from "../../../src/backends/emulation.ts";
import { HOST_READ_ONLY_SCRIPT } from "../../../src/backends/host_read_only.ts";
import { OVERLAY_SCRIPT, withOverlay } from "../../../src/backends/overlay.ts";

const QEMU = "/usr/bin/qemu-aarch64-static";
const plan: PrivateBinfmt = {
  dir: "/s/run/r/binfmt",
  name: "qemu-aarch64",
  qemu: QEMU,
  ...elfMagic("aarch64")!,
  sh: "/b/sh",
  mount: "/b/mount",
  unshare: "/b/unshare",
};
const NO_ENTRY: Emulation = {
  platform: "linux/arm64/v8",
  arch: "aarch64",
  qemu: QEMU,
  privateBinfmt: plan,
};
const F_ENTRY = { enabled: true, interpreter: QEMU, flags: "F" };
const overlay: OverlayPlan = {
  lower: "/s/u",
  upper: "/s/run/r/overlay/upper",
  work: "/s/run/r/overlay/work",
  merged: "/s/run/r/overlay/merged",
  unshare: "/b/unshare",
  mount: "/b/mount",
  sh: "/b/sh",
  create: [],
};
const spec: RunSpec = {
  rootfs: "/s/u",
  argv: ["uname", "-m"],
  env: {},
  cwd: "/",
  terminal: false,
  emulation: NO_ENTRY,
};
const programs = {
  bwrap: "/b/bwrap",
  sh: "/b/sh",
  unshare: "/b/unshare",
  mount: "/b/mount",
};
const ROOT = { uid: 0, realRoot: true };
const USER = { uid: 1000, realRoot: false };

/** The argv of bubblewrap's run of `s` as `host`, the overlay applied. */
function argvOf(s: RunSpec, host: typeof ROOT): string[] {
  return withOverlay(bubblewrap.invocation(s, host, programs), s, host).argv;
}

/** Where each fixed script starts in `argv`, in order. */
function scripts(argv: string[]): string[] {
  const names = new Map([
    [ROOT_USERNS_SCRIPT, "userns"],
    [BINFMT_SCRIPT, "binfmt"],
    [OVERLAY_SCRIPT, "overlay"],
    [HOST_READ_ONLY_SCRIPT, "host-ro"],
  ]);
  return argv.flatMap((a) => names.has(a) ? [names.get(a)!] : []);
}

Deno.test("the magic and mask are Debian's qemu-user-static ones", () => {
  assertEquals(elfMagic("aarch64"), {
    magic:
      "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00",
    mask:
      "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff",
  });
  assertEquals(
    elfMagic("arm")?.magic,
    "\\x7f\\x45\\x4c\\x46\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28\\x00",
  );
  assertEquals(elfMagic("mips"), undefined);
});

Deno.test("kernelAtLeast reads uname -r", () => {
  assertEquals(kernelAtLeast("6.18.44-fc-v657", [6, 7]), true);
  assertEquals(kernelAtLeast("6.7.0", [6, 7]), true);
  assertEquals(kernelAtLeast("7.0.1", [6, 7]), true);
  assertEquals(kernelAtLeast("6.6.63-amd64", [6, 7]), false);
  assertEquals(kernelAtLeast("5.19.1", [6, 7]), false);
  assertEquals(kernelAtLeast("weird", [6, 7]), false);
});

Deno.test("a private instance needs kernel 6.7, known magic and a static qemu", () => {
  const ok = { arch: "aarch64", qemu: QEMU };
  assertEquals(privateBinfmtRefusal("6.18.4", ok), undefined);
  assertEquals(
    privateBinfmtRefusal("6.1.0-28-amd64", ok),
    "kernel 6.1.0-28-amd64 is older than 6.7, which gives a user namespace a binfmt_misc of its own",
  );
  assertEquals(
    privateBinfmtRefusal("6.18.4", {
      arch: "mips",
      qemu: "/b/qemu-mips-static",
    }),
    "no binfmt_misc magic known for this architecture",
  );
  for (const qemu of [undefined, "/usr/bin/qemu-aarch64"]) {
    assertEquals(
      privateBinfmtRefusal("6.18.4", { arch: "aarch64", qemu }),
      "no qemu-aarch64-static (a static build) on PATH",
    );
  }
  assertEquals(
    privateBinfmtRefusal("6.18.4", {
      arch: "aarch64",
      qemu: "/a:b/qemu-aarch64-static",
    }),
    "the path /a:b/qemu-aarch64-static cannot stand in a binfmt_misc register line",
  );
});

Deno.test("only an enabled host entry with F serves; else the private instance", () => {
  assertEquals(hostEntryUsable(F_ENTRY), true);
  assertEquals(hostEntryUsable({ ...F_ENTRY, flags: "PO" }), false);
  assertEquals(hostEntryUsable({ ...F_ENTRY, enabled: false }), false);
  assertEquals(hostEntryUsable(undefined), false);
  assertEquals(privateBinfmtOf(NO_ENTRY), plan);
  assertEquals(privateBinfmtOf({ ...NO_ENTRY, binfmt: F_ENTRY }), undefined);
  assertEquals(
    privateBinfmtOf({ ...NO_ENTRY, binfmt: { ...F_ENTRY, flags: "" } }),
    plan,
  );
  assertEquals(privateBinfmtOf(undefined), undefined);
});

Deno.test("the private instance serves bubblewrap and chroot; its refusal is said", () => {
  assertEquals(emulationRefusal("bubblewrap", NO_ENTRY), undefined);
  assertEquals(emulationRefusal("chroot", NO_ENTRY), undefined);
  assertEquals(
    emulationRefusal("proot", { ...NO_ENTRY, qemu: undefined }),
    "cannot run linux/arm64/v8 images: no qemu-aarch64-static or qemu-aarch64 on PATH",
  );
  const { privateBinfmt: _, ...none } = NO_ENTRY;
  assertEquals(
    emulationRefusal("bubblewrap", { ...none, privateRefusal: "why" }),
    "cannot run linux/arm64/v8 images: the kernel has no binfmt_misc entry qemu-aarch64, and no private instance (why)",
  );
});

Deno.test("the register line and paths are parameters, never script text", () => {
  const argv = binfmtArgv(plan, ["/b/bwrap", "x"]);
  assertEquals(argv.slice(0, 4), [
    "/b/sh",
    "-c",
    BINFMT_SCRIPT,
    "polythene-binfmt",
  ]);
  assertEquals(argv.slice(4), [
    plan.dir,
    "qemu-aarch64",
    plan.magic,
    plan.mask,
    QEMU,
    "/b/mount",
    "/b/bwrap",
    "x",
  ]);
  assertEquals(BINFMT_SCRIPT.includes(QEMU), false);
  // Registered with F (the kernel opens qemu now, from the host), on the
  // instance mounted on $1, never the host's /proc/sys/fs/binfmt_misc.
  assertEquals(
    BINFMT_SCRIPT.includes(`:$2:M::$3:$4:$5:PF" > "$1/register"`),
    true,
  );
  assertEquals(BINFMT_SCRIPT.includes("/proc/sys/fs/binfmt_misc"), false);
  assertEquals(ROOT_USERNS_SCRIPT.includes("0 0 4294967295"), true);
});

Deno.test("as root: a user namespace of the whole id range, then binfmt, the read-only host, bwrap", () => {
  const argv = argvOf(spec, ROOT);
  assertEquals(argv.slice(0, 5), [
    "/b/sh",
    "-c",
    ROOT_USERNS_SCRIPT,
    "polythene-userns",
    "/b/unshare",
  ]);
  assertEquals(scripts(argv), ["userns", "binfmt", "host-ro"]);
  const bwrap = argv.indexOf("/b/bwrap");
  assertEquals(argv.slice(bwrap).includes("--unshare-user"), false);
  assertEquals(argv.slice(bwrap).includes("--cap-drop"), true);
});

Deno.test("as root with --ephemeral: the overlay outside the user namespace", () => {
  const s = { ...spec, rootfs: overlay.merged, overlay };
  const inv = bubblewrap.invocation(s, ROOT, programs);
  assertEquals(inv.overlaid, true);
  assertEquals(inv.argv.slice(0, 5), [
    "/b/unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
  ]);
  assertEquals(scripts(inv.argv), ["overlay", "userns", "binfmt", "host-ro"]);
  // The overlay keeps trusted xattrs: it is mounted by real root.
  assertEquals(inv.argv.some((a) => a.includes("userxattr")), false);
});

Deno.test("as a user: one user namespace with a mount namespace, then bwrap", () => {
  for (const idMap of [undefined, { mode: "single" as const }]) {
    const argv = argvOf({ ...spec, ...(idMap ? { idMap } : {}) }, USER);
    assertEquals(argv.slice(0, 5), [
      "/b/unshare",
      "--user",
      "--map-root-user",
      "--mount",
      "--",
    ]);
    assertEquals(scripts(argv), ["binfmt"]);
    assertEquals(argv[5 + 10], "/b/bwrap");
  }
  const ephemeral = argvOf({ ...spec, rootfs: overlay.merged, overlay }, USER);
  assertEquals(ephemeral.filter((a) => a === "/b/unshare").length, 1);
  assertEquals(scripts(ephemeral), ["overlay", "binfmt"]);
});

Deno.test("as a user in full id maps: the binfmt in unshare's --map-auto namespace", () => {
  const idMap = {
    mode: "full" as const,
    unshare: "/b/unshare",
    helperPath: "/b",
    forced: true,
  };
  const argv = argvOf({ ...spec, idMap }, USER);
  assertEquals(argv.slice(0, 6), [
    "/b/unshare",
    "--user",
    "--map-auto",
    "--map-root-user",
    "--mount",
    "--",
  ]);
  assertEquals(scripts(argv), ["binfmt"]);
  const both = argvOf(
    { ...spec, idMap, rootfs: overlay.merged, overlay },
    USER,
  );
  assertEquals(both.filter((a) => a === "/b/unshare").length, 1);
  assertEquals(scripts(both), ["overlay", "binfmt"]);
});

Deno.test("a host entry with F: no private instance, argv as for a native image", () => {
  const host = { ...spec, emulation: { ...NO_ENTRY, binfmt: F_ENTRY } };
  const native = { ...spec, emulation: undefined };
  for (const who of [ROOT, USER]) {
    assertEquals(argvOf(host, who), argvOf(native, who));
    assertEquals(scripts(argvOf(host, who)).includes("binfmt"), false);
  }
});

Deno.test("chroot as root: a user namespace of the whole id range, binfmt, then chroot's own unshare", () => {
  const inv = chroot.invocation(spec, ROOT, {
    ...programs,
    setpriv: "/b/setpriv",
  });
  assertEquals(inv.argv.slice(0, 5), [
    "/b/sh",
    "-c",
    ROOT_USERNS_SCRIPT,
    "polythene-userns",
    "/b/unshare",
  ]);
  assertEquals(scripts(inv.argv), ["userns", "binfmt"]);
  const start = inv.argv.indexOf("/b/mount") + 1;
  assertEquals(inv.argv.slice(start, start + 3), [
    "/b/unshare",
    "--mount",
    "--pid",
  ]);
  const native = chroot.invocation(
    { ...spec, emulation: { ...NO_ENTRY, binfmt: F_ENTRY } },
    ROOT,
    { ...programs, setpriv: "/b/setpriv" },
  );
  assertEquals(native.argv[0], "/b/unshare");
  assertEquals(scripts(native.argv), []);
});
