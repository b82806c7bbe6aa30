import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import {
  commandEnv,
  parseBind,
  parseEnvArg,
  parseEnvFile,
  parseUser,
  parseWorkdir,
} from "../../../src/exec/options.ts";
import { UsageError } from "../../../src/errors.ts";
import { prootArgs } from "../../../src/backends/proot.ts";
import { bwrapArgs } from "../../../src/backends/bubblewrap.ts";
import { chroot } from "../../../src/backends/chroot.ts";
import { proot } from "../../../src/backends/proot.ts";
import {
  GUEST_ENV_SCRIPT,
  launcherEnv,
} from "../../../src/backends/launcher_env.ts";
import type { RunSpec } from "../../../src/backends/backend.ts";

const host = (name: string) => name === "H" ? "host" : undefined;

Deno.test("env: image, then HOME and TERM, then --env-file, then --env", () => {
  assertEquals(
    commandEnv({
      imageEnv: ["A=1", "B=1", "HOME=/x", "bad", "=v"],
      uid: 0,
      term: "xterm",
      fileEnv: [["B", "2"], ["C", "2"]],
      cliEnv: [["C", "3"], ["TERM", "dumb"]],
    }),
    {
      A: "1",
      B: "2",
      C: "3",
      HOME: "/root",
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      TERM: "dumb",
    },
  );
  assertEquals(commandEnv({ uid: 5, fileEnv: [], cliEnv: [] }).HOME, "/");
});

Deno.test("env: --env KEY passes the host's value, or nothing", () => {
  assertEquals(parseEnvArg("H", host), ["H", "host"]);
  assertEquals(parseEnvArg("X", host), undefined);
  assertEquals(parseEnvArg("K=a=b", host), ["K", "a=b"]);
  assertEquals(parseEnvArg("K=", host), ["K", ""]);
  assertThrows(() => parseEnvArg("=v", host), UsageError);
  assertEquals(parseEnvFile("# c\n\nA=1\r\nH\nB_2=x y\n", "f", host), [
    ["A", "1"],
    ["H", "host"],
    ["B_2", "x y"],
  ]);
  for (const bad of ["A B=1", "1A=x", "-x=1", "a.b=1"]) {
    assertThrows(() => parseEnvArg(bad, host), UsageError);
  }
  assertThrows(() => parseEnvFile("A=1\nbad line\n", "f", host), UsageError);
});

Deno.test("bind, user and workdir values", () => {
  assertEquals(parseBind("src:/a/../b/", "/cwd"), {
    source: "/cwd/src",
    target: "/b",
    readOnly: false,
  });
  assertEquals(parseBind("/s:/d:ro", "/").readOnly, true);
  assertEquals(parseBind("/s:/d:rw", "/").readOnly, false);
  for (const bad of ["/s", "/s:d", "/s:/", ":/d", "/s:/d:xx", "/a:/b:/c"]) {
    assertThrows(() => parseBind(bad, "/"), UsageError);
  }
  assertEquals(parseUser("root"), { uid: 0, gid: 0 });
  assertEquals(parseUser("7"), { uid: 7, gid: 7 });
  assertEquals(parseUser("7:0"), { uid: 7, gid: 0 });
  assertEquals(parseUser("4294967294").uid, 4294967294);
  for (const bad of ["4294967295", "-1", "bob", "1:2:3", "", "1:"]) {
    assertThrows(() => parseUser(bad), UsageError);
  }
  assertEquals(parseWorkdir("/a//b/./c/.."), "/a/b");
  assertThrows(() => parseWorkdir("a"), UsageError);
});

const spec: RunSpec = {
  rootfs: "/r",
  argv: ["id"],
  env: { PATH: "/bin", LD_PRELOAD: "/x.so" },
  cwd: "/w",
  terminal: false,
  mounts: [{ source: "/s", target: "/t", readOnly: true }],
  network: "none",
  user: { uid: 5, gid: 6 },
  guestShell: "/bin/sh",
};
const user = { uid: 1000, realRoot: false };

Deno.test("argv: binds, network, user; the env in the launcher's, renamed where it would affect it", () => {
  const bwrap = bwrapArgs(spec, user).join(" ");
  for (const part of ["--uid 5 --gid 6", "--unshare-net", "--ro-bind /s /t"]) {
    assertEquals(bwrap.includes(part), true, part);
  }
  const p = prootArgs({ ...spec, mounts: [], network: "host" });
  assertEquals(p.slice(0, 5), ["-r", "/r", "-i", "5:6", "-w"]);
  assertEquals(p.slice(-7), [
    "/bin/sh",
    "-c",
    GUEST_ENV_SCRIPT,
    "polythene-env",
    "1",
    "LD_PRELOAD",
    "id",
  ]);
  assertEquals(p.some((a) => a.includes("/x.so")), false, "no value in argv");
  const inv = proot.invocation({ ...spec, mounts: [] }, user, { proot: "/p" });
  assertEquals(inv.env, { PATH: "/bin", POLYTHENE_ENV_LD_PRELOAD: "/x.so" });
  // Nothing to rename: the command as is, no guest shell.
  const plain = { ...spec, env: { PATH: "/bin", TOKEN: "t" } };
  assertEquals(prootArgs(plain).slice(-1), ["id"]);
  assertEquals(launcherEnv(plain), { PATH: "/bin", TOKEN: "t" });
});

Deno.test("refusals: proot and network none, ro binds, an env it would see", () => {
  assertEquals(
    proot.refuses!(spec, user),
    "cannot isolate the network (--network none)",
  );
  assertEquals(
    proot.refuses!({ ...spec, network: "host" }, user),
    'cannot make a bind read-only ("/s:/t:ro")',
  );
  const privateCopy = [{
    source: "/s",
    target: "/t",
    readOnly: true,
    privateCopy: true,
  }];
  assertEquals(
    proot.refuses!({ ...spec, network: "host", mounts: privateCopy }, user),
    undefined,
  );
  const noEnv = {
    ...spec,
    network: "host" as const,
    mounts: [],
    guestShell: undefined,
  };
  assertEquals(
    chroot.refuses!(noEnv, user)?.startsWith(
      "the command's environment sets LD_PRELOAD",
    ),
    true,
  );
  assertEquals(
    chroot.refuses!({ ...noEnv, env: { PATH: "/bin" } }, user),
    undefined,
  );
  assertEquals(
    chroot.refuses!({ ...spec, env: { "LD_a.b": "x" } }, user)?.includes(
      "not a name a shell can set",
    ),
    true,
  );
});
