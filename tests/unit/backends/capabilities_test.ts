import { assertEquals } from "../../helpers/assert.ts";
import {
  bwrapCapabilityArgs,
  GUEST_CAPABILITIES,
  setprivArgs,
  underSetpriv,
} from "../../../src/backends/capabilities.ts";
import { programsNeeded } from "../../../src/backends/backend.ts";
import { proot } from "../../../src/backends/proot.ts";
import { chroot } from "../../../src/backends/chroot.ts";
import { bubblewrap, bwrapArgs } from "../../../src/backends/bubblewrap.ts";

/** Docker's default set, spelled out independently of the module. */
const DOCKER = "chown dac_override fowner fsetid kill setgid setuid setpcap " +
  "net_bind_service net_raw sys_chroot mknod audit_write setfcap";

const root = { uid: 0, realRoot: true };
const user = { uid: 1000, realRoot: false };

Deno.test("the guest set is Docker's default set, and lacks dac_read_search and sys_admin", () => {
  assertEquals(
    GUEST_CAPABILITIES.map((c) => c.slice(4).toLowerCase()).join(" "),
    DOCKER,
  );
});

Deno.test("bwrap drops every capability, then adds back each of the set", () => {
  const args = bwrapCapabilityArgs();
  assertEquals(args.slice(0, 2), ["--cap-drop", "ALL"]);
  assertEquals(
    args.slice(2).filter((_, i) => i % 2 === 0).every((a) => a === "--cap-add"),
    true,
  );
  assertEquals(
    args.slice(2).filter((_, i) => i % 2 === 1).join(" "),
    DOCKER.toUpperCase().split(" ").map((c) => `CAP_${c}`).join(" "),
  );
});

Deno.test("setpriv narrows the bounding, inheritable and ambient sets and sets no_new_privs", () => {
  const caps = "-all," + DOCKER.split(" ").map((c) => `+${c}`).join(",");
  assertEquals(setprivArgs(), [
    "--no-new-privs",
    `--inh-caps=${caps}`,
    `--ambient-caps=${caps}`,
    `--bounding-set=${caps}`,
  ]);
});

Deno.test("underSetpriv wraps only as real root", () => {
  assertEquals(underSetpriv(["/bin/proot", "x"], user, undefined), [
    "/bin/proot",
    "x",
  ]);
  assertEquals(underSetpriv(["/bin/proot", "x"], root, "/bin/setpriv"), [
    "/bin/setpriv",
    ...setprivArgs(),
    "--",
    "/bin/proot",
    "x",
  ]);
});

Deno.test("proot needs setpriv only as real root; chroot always; bwrap never", () => {
  assertEquals(programsNeeded(proot, user), ["proot", "sh"]);
  assertEquals(programsNeeded(proot, root), ["proot", "sh", "setpriv"]);
  assertEquals(programsNeeded(chroot, root).includes("setpriv"), true);
  assertEquals(programsNeeded(bubblewrap, root).includes("setpriv"), false);
});

Deno.test("proot as real root runs, and is probed, under setpriv", () => {
  const programs = {
    proot: "/bin/proot",
    sh: "/bin/sh",
    setpriv: "/bin/setpriv",
  };
  const spec = {
    rootfs: "/s/u",
    argv: ["true"],
    env: {},
    cwd: "/",
    terminal: false,
  };
  for (
    const argv of [
      proot.invocation(spec, root, programs).argv,
      proot.probe(root, programs).argv,
    ]
  ) {
    assertEquals(argv.slice(0, 7), [
      "/bin/setpriv",
      ...setprivArgs(),
      "--",
      "/bin/proot",
    ]);
  }
  assertEquals(proot.invocation(spec, user, programs).argv[0], "/bin/proot");
});

Deno.test("bwrap keeps the set for uid 0 inside and adds nothing for another uid", () => {
  const spec = {
    rootfs: "/s/u",
    argv: ["true"],
    env: {},
    cwd: "/",
    terminal: false,
  };
  for (const host of [root, user]) {
    assertEquals(bwrapArgs(spec, host).includes("--cap-drop"), true);
  }
  // Full maps and faked ownership: uid 0 in a user namespace, the same set.
  const full = bwrapArgs({
    ...spec,
    idMap: {
      mode: "full",
      unshare: "/usr/bin/unshare",
      helperPath: "/usr/bin",
      forced: false,
    },
  }, user);
  assertEquals(full.slice(0, 2), ["--cap-drop", "ALL"]);
  const fake = bwrapArgs({
    ...spec,
    idMap: { mode: "fake", filterFile: "/s/f.bpf" },
  }, user);
  assertEquals(fake.includes("--cap-drop"), true);
  const other = bwrapArgs({ ...spec, user: { uid: 5, gid: 5 } }, root);
  assertEquals(other.includes("--cap-add"), false);
  assertEquals(other.includes("--unshare-user"), true);
});
