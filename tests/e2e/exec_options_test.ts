/**
 * `exec --env/--env-file/--workdir/--user/--bind` through the real CLI, on
 * every backend, as root and as the unprivileged user (see
 * `exec_shapes.ts`): the environment's order and its hygiene (an image's
 * `LD_PRELOAD` reaches the command, never the host-side launcher), the
 * working directory, the uid, and read-write and read-only binds. Where a
 * backend cannot honour an option the refusal and its message are asserted.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertRan,
  assertRefused,
  show,
  testEachShape,
} from "../helpers/exec_shapes.ts";

/** The image config recorded for the entry. */
const CONFIG = {
  Env: [
    "PATH=/usr/bin:/bin",
    "A=image",
    "B=image",
    "C=image",
    "HOME=/image-home",
    "LD_PRELOAD=/nonexistent-polythene-test.so",
  ],
  WorkingDir: "/srv/app",
};

/** `KEY=VALUE` lines as a record. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((l) => l.includes("=")).map((line) => {
      const eq = line.indexOf("=");
      return [line.slice(0, eq), line.slice(eq + 1)];
    }),
  );
}

testEachShape("exec options: env, workdir, user", CONFIG, async (ctx) => {
  const { backend } = ctx.shape;
  const envFile = `${ctx.staged.store}/../env-file`;
  await Deno.writeTextFile(envFile, "# comment\nB=file\nC=file\n\nF=a b\n");
  await ctx.own(envFile);
  const env = await ctx.exec(
    ["--env-file", envFile, "-e", "C=cli", "--env", "D", "-e", "E"],
    ["env"],
    { env: { D: "from-host", GITHUB_TOKEN: "secret", TERM: "xterm-test" } },
  );
  if (!ctx.shape.runnable) {
    assertRefused(env, backend, /needs real root/);
    return;
  }
  assertRan(env, backend, 0);
  const seen = parseEnv(env.stdout);
  delete seen.PWD; // chroot's `unshare --wd` sets it; the others do not
  assert.deepEqual(seen, {
    PATH: "/usr/bin:/bin",
    A: "image",
    B: "file",
    C: "cli",
    D: "from-host",
    F: "a b",
    HOME: "/root",
    TERM: "xterm-test",
    LD_PRELOAD: "/nonexistent-polythene-test.so",
  }, show(env));
  // The image's LD_PRELOAD reached the command but no host-side launcher:
  // the host's ld.so would have complained about the missing library.
  assert.doesNotMatch(env.stderr, /ld\.so|cannot be preloaded/, show(env));

  assertRan(await ctx.exec([], ["pwd"]), backend, 0, "/srv/app\n");
  assertRan(await ctx.exec(["-w", "/tmp"], ["pwd"]), backend, 0, "/tmp\n");
  assertRan(
    await ctx.exec(["--workdir", "/new/dir"], ["pwd"]),
    backend,
    0,
    "/new/dir\n",
  );
  const relative = await ctx.exec(["-w", "tmp"], ["pwd"]);
  assert.equal(relative.code, 2, show(relative));
  assert.match(relative.stderr, /Invalid --workdir "tmp"/);

  const ids = await ctx.exec(["-u", "1234:567"], ["sh", "-c", "id -u; id -g"]);
  assertRan(ids, backend, 0, "1234\n567\n");
  const home = await ctx.exec(["-u", "1234"], [
    "sh",
    "-c",
    "id -g; echo $HOME",
  ]);
  assertRan(home, backend, 0, "1234\n/\n");
  assertRan(await ctx.exec(["-u", "root"], ["id", "-u"]), backend, 0, "0\n");
  for (const bad of ["4294967295", "-1", "bob", "1:2:3", "1:x"]) {
    const refused = await ctx.exec([`--user=${bad}`], ["true"]);
    assert.equal(refused.code, 2, show(refused));
    assert.match(refused.stderr, /Invalid --user/);
  }
});

testEachShape("exec options: binds", undefined, async (ctx) => {
  const { backend } = ctx.shape;
  const host = await Deno.makeTempDir({ prefix: "polythene-bind-" });
  try {
    await Deno.chmod(host, 0o777);
    await Deno.writeTextFile(`${host}/in`, "from host\n");
    await Deno.chmod(`${host}/in`, 0o644);
    const rw = await ctx.exec(
      ["-b", `${host}:/mnt/deep/work`],
      ["sh", "-c", "cat /mnt/deep/work/in && echo out > /mnt/deep/work/out"],
    );
    if (!ctx.shape.runnable) {
      assertRefused(rw, backend, /needs real root/);
      return;
    }
    assertRan(rw, backend, 0, "from host\n");
    assert.equal(await Deno.readTextFile(`${host}/out`), "out\n");
    assert.ok(
      (await Deno.stat(`${ctx.staged.rootfs}/mnt/deep/work`)).isDirectory,
      "the mount point was created inside the rootfs",
    );

    const fileBind = await ctx.exec(
      ["--bind", `${host}/in:/etc/motd:ro`],
      ["cat", "/etc/motd"],
    );
    const ro = await ctx.exec(
      ["-b", `${host}:/work:ro`],
      ["sh", "-c", "cat /work/in; echo x > /work/in; echo x > /work/new"],
    );
    if (backend === "proot") {
      for (const result of [fileBind, ro]) {
        assertRefused(result, backend, /cannot make a bind read-only/);
      }
    } else {
      assertRan(fileBind, backend, 0, "from host\n");
      assertRan(ro, backend, 1, "from host\n");
      assert.match(ro.stderr, /Read-only file system/, show(ro));
    }
    assert.equal(await Deno.readTextFile(`${host}/in`), "from host\n");
    await assert.rejects(Deno.stat(`${host}/new`), Deno.errors.NotFound);

    const missing = await ctx.exec(["-b", `${host}/nope:/x`], ["true"]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /Cannot bind ".*\/nope"/);
    const bad = await ctx.exec(["-b", `${host}:relative`], ["true"]);
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /DST must be an absolute path/);
  } finally {
    await Deno.remove(host, { recursive: true });
  }
});
