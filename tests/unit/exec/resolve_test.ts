import { assertEquals } from "../../helpers/assert.ts";
import { resolveInRoot } from "../../../src/exec/resolve_in_root.ts";
import { lookupCommand } from "../../../src/exec/command_lookup.ts";
import { commandEnv } from "../../../src/exec/options.ts";

async function withRoot(fn: (root: string) => void | Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "polythene-resolve-" });
  try {
    await Deno.mkdir(`${root}/usr/bin`, { recursive: true });
    await Deno.mkdir(`${root}/etc`);
    await Deno.writeTextFile(`${root}/usr/bin/tool`, "#!/bin/sh\n");
    await Deno.chmod(`${root}/usr/bin/tool`, 0o755);
    await Deno.writeTextFile(`${root}/usr/bin/data`, "not executable");
    await Deno.symlink("usr/bin", `${root}/bin`);
    await Deno.symlink("/usr/bin/tool", `${root}/usr/bin/abs-link`);
    await Deno.symlink("../../../../../../etc", `${root}/usr/bin/escape`);
    await Deno.symlink("loop2", `${root}/loop1`);
    await Deno.symlink("loop1", `${root}/loop2`);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("symlinks resolve inside the rootfs, never on the host", () =>
  withRoot((root) => {
    assertEquals(resolveInRoot(root, "/bin/tool"), `${root}/usr/bin/tool`);
    assertEquals(
      resolveInRoot(root, "/usr/bin/abs-link"),
      `${root}/usr/bin/tool`,
    );
    assertEquals(resolveInRoot(root, "/usr/bin/escape"), `${root}/etc`);
    assertEquals(resolveInRoot(root, "/../../../etc"), `${root}/etc`);
    assertEquals(resolveInRoot(root, "/"), root);
  }));

Deno.test("missing paths, files used as directories and loops resolve to nothing", () =>
  withRoot((root) => {
    assertEquals(resolveInRoot(root, "/nope"), undefined);
    assertEquals(resolveInRoot(root, "/usr/bin/tool/x"), undefined);
    assertEquals(resolveInRoot(root, "/loop1"), undefined);
  }));

Deno.test("commands are found on PATH inside the rootfs, or by path", () =>
  withRoot((root) => {
    assertEquals(lookupCommand(root, "tool", "/nope:/bin"), "/bin/tool");
    assertEquals(lookupCommand(root, "/usr/bin/tool", ""), "/usr/bin/tool");
    assertEquals(lookupCommand(root, "usr/bin/tool", ""), "//usr/bin/tool");
    assertEquals(
      lookupCommand(root, "abs-link", "/usr/bin"),
      "/usr/bin/abs-link",
    );
  }));

Deno.test("missing, non-executable and directory commands are not found", () =>
  withRoot((root) => {
    assertEquals(lookupCommand(root, "ls", "/bin:/usr/bin"), undefined);
    assertEquals(lookupCommand(root, "data", "/usr/bin"), undefined);
    assertEquals(lookupCommand(root, "bin", "/"), undefined);
    assertEquals(lookupCommand(root, "", "/usr/bin"), undefined);
    assertEquals(lookupCommand(root, "sh", "/usr/bin"), undefined);
  }));

Deno.test("the sandbox env has PATH, HOME and the host's TERM, nothing else", () => {
  const env = (term?: string) =>
    commandEnv({ uid: 0, term, fileEnv: [], cliEnv: [] });
  assertEquals(env(undefined), {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/root",
  });
  assertEquals(env("xterm").TERM, "xterm");
  assertEquals("TERM" in env(""), false);
});

Deno.test("a script whose interpreter is missing is caught before any backend", async () => {
  const { missingInterpreter } = await import(
    "../../../src/exec/command_lookup.ts"
  );
  await withRoot(async (root) => {
    await Deno.writeTextFile(`${root}/usr/bin/py`, "#!/usr/bin/python3 -u\n");
    await Deno.writeTextFile(`${root}/usr/bin/ok`, "#! /bin/tool\n");
    assertEquals(missingInterpreter(root, "/usr/bin/py"), "/usr/bin/python3");
    assertEquals(missingInterpreter(root, "/usr/bin/ok"), undefined);
    assertEquals(missingInterpreter(root, "/usr/bin/tool"), "/bin/sh");
    assertEquals(missingInterpreter(root, "/usr/bin/data"), undefined);
  });
});
