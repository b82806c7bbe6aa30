import { assertEquals } from "../../helpers/assert.ts";
import { bubblewrap, bwrapArgs } from "../../../src/backends/bubblewrap.ts";
import { nulSeparated } from "../../../src/backends/status.ts";
import { prootArgs } from "../../../src/backends/proot.ts";
import { CHROOT_SCRIPT, chrootArgs } from "../../../src/backends/chroot.ts";
import type { RunSpec } from "../../../src/backends/backend.ts";
import {
  bwrapCapabilityArgs,
  setprivArgs,
} from "../../../src/backends/capabilities.ts";

const spec: RunSpec = {
  rootfs: "/store/u 1",
  argv: ["printf", "%s\n", "a b", "--x", "$HOME"],
  env: { PATH: "/bin", HOME: "/root" },
  cwd: "/",
  terminal: false,
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

Deno.test("bwrap: no --new-session on a terminal (the command has its own pty)", () => {
  const args = bwrapArgs({ ...spec, terminal: true }, root);
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
    setpriv: "/bin/setpriv",
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
  assertEquals(args.slice(10, 19), [
    "polythene-chroot",
    "/bin/mount",
    "/bin/unshare",
    "/bin/setpriv",
    "/store/u 1",
    "null zero full random urandom tty",
    "/",
    "0:0",
    "0",
  ]);
  assertEquals(args.slice(19), spec.argv);
  // The command runs under setpriv with fixed flags, never user data.
  assertEquals(
    CHROOT_SCRIPT.includes(`"$_p_setpriv" ${setprivArgs().join(" ")} --`),
    true,
  );
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

/** The pids of `pid`'s children, from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`)
      .trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

Deno.test("the signal script signals the grandchildren, not the children", async () => {
  const { signalTree } = await import("../../../src/backends/signal_tree.ts");
  // top -> mid (a shell) -> sleep: only the sleep may get the signal.
  const top = new Deno.Command("/bin/sh", {
    args: ["-c", 'sh -c "sleep 600; echo mid-survived"; echo top-done'],
    stdout: "piped",
  }).spawn();
  try {
    for (let i = 0; i < 500; i++) {
      const [mid] = childrenOf(top.pid);
      if (mid !== undefined && childrenOf(mid).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const tree = signalTree("/bin/sh", "grandchildren", top.pid, "SIGTERM");
    const sent = await new Deno.Command(tree.argv[0]!, {
      args: tree.argv.slice(1),
      clearEnv: true,
      env: tree.env,
    }).output();
    assertEquals(sent.code, 0);
    const out = await top.output();
    assertEquals(
      new TextDecoder().decode(out.stdout),
      "mid-survived\ntop-done\n",
    );
  } finally {
    try {
      top.kill("SIGKILL");
    } catch { /* exited */ }
  }
});
