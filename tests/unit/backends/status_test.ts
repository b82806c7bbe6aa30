import { assertEquals } from "../../helpers/assert.ts";
import {
  reportedExitCode,
  STATUS_WRAPPER,
  withStatusFd,
} from "../../../src/backends/status.ts";

Deno.test("an exit-code line means the command ran", () => {
  const text = '{ "child-pid": 12, "mnt-namespace": 1 }\n{ "exit-code": 42 }\n';
  assertEquals(reportedExitCode(text), 42);
  assertEquals(reportedExitCode('{ "exit-code": 0 }'), 0);
});

Deno.test("no exit-code line means the backend failed while setting up", () => {
  assertEquals(reportedExitCode(""), undefined);
  assertEquals(reportedExitCode('{ "child-pid": 12 }\n'), undefined);
  assertEquals(reportedExitCode('{ "exit-code": 4'), undefined);
});

Deno.test("the wrapper passes the status file and argv as data", () => {
  assertEquals(withStatusFd("/bin/sh", "/tmp/s x", ["bwrap", "a b"]), [
    "/bin/sh",
    "-c",
    STATUS_WRAPPER,
    "polythene-status",
    "/tmp/s x",
    "",
    "",
    "bwrap",
    "a b",
  ]);
  assertEquals(
    withStatusFd("/bin/sh", "/s", ["bwrap"], "/a").slice(4),
    ["/s", "/a", "", "bwrap"],
  );
  assertEquals(
    withStatusFd("/bin/sh", "/s", ["bwrap"], "", "/f.bpf").slice(4),
    ["/s", "", "/f.bpf", "bwrap"],
  );
});

Deno.test("versions are read past logos and prefixes", async () => {
  const { versionOf } = await import("../../../src/backends/readiness.ts");
  assertEquals(versionOf("bwrap", "bubblewrap 0.8.0\n"), "bwrap 0.8.0");
  assertEquals(
    versionOf("proot", " _____\n|__|  |__|__\\_____/ 5.1.0\n"),
    "proot 5.1.0",
  );
  assertEquals(
    versionOf("unshare", "unshare from util-linux 2.38.1\n"),
    "unshare 2.38.1",
  );
  assertEquals(versionOf("x", "no version"), undefined);
});

Deno.test("the wrapper really opens fd 3 on the file, then runs argv as given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/status file`;
    const argv = withStatusFd("/bin/sh", file, [
      "/bin/sh",
      "-c",
      'echo "$1" >&3; exit 4',
      "sh",
      "a b; $HOME",
    ]);
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      clearEnv: true,
      env: { HOME: "/home/x" },
    }).output();
    assertEquals(out.code, 4);
    assertEquals(await Deno.readTextFile(file), "a b; $HOME\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the wrapper opens fds 3, 4 and 5 on its files", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/args`, "A");
    Deno.writeTextFileSync(`${dir}/filter`, "F");
    const argv = withStatusFd(
      "/bin/sh",
      `${dir}/status`,
      ["/bin/sh", "-c", "cat <&4; cat <&5; echo S >&3"],
      `${dir}/args`,
      `${dir}/filter`,
    );
    const out = await new Deno.Command(argv[0]!, { args: argv.slice(1) })
      .output();
    assertEquals(new TextDecoder().decode(out.stdout), "AF");
    assertEquals(Deno.readTextFileSync(`${dir}/status`), "S\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
