import { assertEquals } from "../../helpers/assert.ts";
import { bubblewrap, bwrapArgs } from "../../../src/backends/bubblewrap.ts";
import { nulSeparated } from "../../../src/backends/status.ts";
import { prootArgs } from "../../../src/backends/proot.ts";
import { CHROOT_SCRIPT, chrootArgs } from "../../../src/backends/chroot.ts";
import type { RunSpec } from "../../../src/backends/backend.ts";
import { bwrapCapabilityArgs } from "../../../src/backends/capabilities.ts";

const spec: RunSpec = {
  rootfs: "/store/u 1",
  argv: ["printf", "%s\n", "a b", "--x", "$HOME"],
  env: { PATH: "/bin", HOME: "/root" },
  cwd: "/",
  stdinIsTty: false,
};
const root = { uid: 0, realRoot: true };
const user = { uid: 1000, realRoot: false };

Deno.test("bwrap: unprivileged gets a user namespace mapped to uid 0", () => {
  const args = bwrapArgs(spec, user);
  assertEquals(args.slice(0, 5), [
    "--unshare-user",
    "--uid",
    "0",
    "--gid",
    "0",
  ]);
  assertEquals(bwrapArgs(spec, root).includes("--unshare-user"), false);
});

Deno.test("bwrap: namespaces, layout, clean env and the command verbatim", () => {
  assertEquals(bwrapArgs(spec, root), [
    ...bwrapCapabilityArgs(),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--new-session",
    "--bind",
    "/store/u 1",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    "/",
    "--clearenv",
    "--args",
    "4",
    "--json-status-fd",
    "3",
    "--",
    "printf",
    "%s\n",
    "a b",
    "--x",
    "$HOME",
  ]);
});

Deno.test("bwrap: no --new-session when stdin is a terminal", () => {
  const args = bwrapArgs({ ...spec, stdinIsTty: true }, root);
  assertEquals(args.includes("--new-session"), false);
});

Deno.test("proot: -r with explicit binds, fake root, cwd, command verbatim", () => {
  const args = prootArgs(spec);
  assertEquals(args.slice(0, 5), ["-r", "/store/u 1", "-0", "-w", "/"]);
  assertEquals(args.includes("-R"), false);
  for (const bind of ["/proc", "/dev/null", "/dev/urandom", "/dev/tty"]) {
    assertEquals(args[args.indexOf(bind) - 1], "-b", bind);
  }
  assertEquals(args.slice(-5), spec.argv);
});

Deno.test("chroot: private mount and pid namespaces, fixed script, argv as data", () => {
  const args = chrootArgs(spec, {
    sh: "/bin/sh",
    mount: "/bin/mount",
    unshare: "/bin/unshare",
  });
  assertEquals(args.slice(0, 10), [
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    CHROOT_SCRIPT,
  ]);
  assertEquals(args.slice(10, 18), [
    "polythene-chroot",
    "/bin/mount",
    "/bin/unshare",
    "/store/u 1",
    "null zero full random urandom tty",
    "/",
    "0:0",
    "0",
  ]);
  assertEquals(args.slice(18), spec.argv);
  assertEquals(CHROOT_SCRIPT.includes("/store/u 1"), false);
});

Deno.test("signals reach the sandbox through a fixed script, pid and signal as data", async () => {
  const { SIGNAL_TREE_SCRIPT, signalTree } = await import(
    "../../../src/backends/signal_tree.ts"
  );
  assertEquals(signalTree("/bin/sh", "tracees", 42, "SIGTERM").argv, [
    "/bin/sh",
    "-c",
    SIGNAL_TREE_SCRIPT,
    "polythene-signal",
    "TERM",
    "tracees",
    "42",
  ]);
  assertEquals(
    signalTree("/bin/sh", "grandchildren", 7, "SIGKILL").argv.slice(4),
    ["KILL", "grandchildren", "7"],
  );
});

Deno.test("bwrap: the environment goes to fd 4, never the argv", () => {
  const inv = bubblewrap.invocation(spec, root, { bwrap: "/b", sh: "/s" });
  assertEquals(inv.fdArgs, [
    "--setenv",
    "PATH",
    "/bin",
    "--setenv",
    "HOME",
    "/root",
  ]);
  assertEquals(inv.argv.includes("--setenv"), false);
  assertEquals(inv.argv.includes("/root"), false);
  assertEquals(
    nulSeparated(inv.fdArgs!),
    "--setenv\0PATH\0/bin\0--setenv\0HOME\0/root\0",
  );
});
