/**
 * Extraction as a real unprivileged user (`polythene-test`, through
 * `setpriv`), where chown and mknod really fail: owners go to the owner
 * table, setuid/setgid bits are dropped on disk, directories stay
 * `u+rwx`, device nodes are skipped with a log line, and the user can
 * remove the result. Hostile entries are tried against sentinels that this
 * user could write, so a escape would show.
 *
 * The library is bundled (`deno bundle`) into one file the user can run
 * without this checkout or its npm cache.
 */

import assert from "node:assert/strict";
import { assertEquals } from "../helpers/assert.ts";
import { hostProgram, type TestUser } from "../helpers/cli.ts";
import { testNeeding, testUser } from "../helpers/fixtures.ts";
import { tarBytes, type TarEntry } from "../helpers/tar_writer.ts";
import {
  exists,
  makeSandbox,
  type Sandbox,
  snapshot,
} from "../unit/layers/_sandbox.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const MODULE = new URL("../../src/image/layers/mod.ts", import.meta.url).href;

const RUNNER = `
import { extractLayer, OwnershipTable } from ${JSON.stringify(MODULE)};
const [rootfs, ...layers] = Deno.args;
const ownership = new OwnershipTable();
const logs = [];
const stats = [];
try {
  for (const path of layers) {
    const file = await Deno.open(path);
    const s = await extractLayer(file.readable, rootfs, {
      asRoot: false, ownership, log: (m) => logs.push(m),
    });
    stats.push({ ...s, ownership: undefined });
  }
  console.log(JSON.stringify({ ok: true, stats, ownership: ownership.toJSON(), logs }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e.name, message: e.message, logs }));
}
`;

interface RunResult {
  ok: boolean;
  stats?: { skippedDevices: number; fifos: number; files: number }[];
  ownership?: Record<string, unknown>;
  logs: string[];
  error?: string;
  message?: string;
}

/** Bundles the runner into `dir`; returns its path. */
async function bundle(dir: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/runner.ts`, RUNNER);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      `${REPO}deno.json`,
      "-o",
      `${dir}/runner.js`,
      `${dir}/runner.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  await Deno.chmod(`${dir}/runner.js`, 0o644);
  return `${dir}/runner.js`;
}

/** Runs the bundled runner as `user` over `layers`. */
async function runAs(
  user: TestUser,
  runner: string,
  rootfs: string,
  layers: string[],
): Promise<RunResult> {
  const out = await new Deno.Command(hostProgram("setpriv")!, {
    args: [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      "--init-groups",
      "--",
      Deno.execPath(),
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-run=mknod",
      runner,
      rootfs,
      ...layers,
    ],
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: user.home,
      DENO_DIR: `${user.home}/.cache/deno`,
    },
    clearEnv: true,
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!text) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

async function chownTree(path: string, user: TestUser) {
  const out = await new Deno.Command("chown", {
    args: ["-R", "-h", `${user.uid}:${user.gid}`, path],
  }).output();
  assert.ok(out.success);
}

/** A sandbox whose sentinels and staging dir belong to `user`. */
async function userSandbox(user: TestUser): Promise<{
  sb: Sandbox;
  layers: (n: string, entries: TarEntry[]) => Promise<string>;
  runner: string;
  cleanup: () => Promise<void>;
}> {
  const sb = await makeSandbox();
  await chownTree(`${sb.base}/staging`, user);
  await chownTree(sb.host, user);
  await chownTree(sb.tmp, user);
  const work = await Deno.makeTempDir({ prefix: "polythene-runner-" });
  await Deno.chmod(work, 0o755);
  const runner = await bundle(work);
  const layers = async (name: string, entries: TarEntry[]) => {
    const path = `${work}/${name}.tar`;
    await Deno.writeFile(path, tarBytes(entries), { mode: 0o644 });
    return path;
  };
  // The sentinels now belong to the user, who could change them: any
  // change or new file beside them is an escape.
  const fingerprint = async () => ({
    base: Object.keys(await snapshot(sb.base)).filter((k) =>
      !k.startsWith("/staging/")
    ),
    host: await snapshot(sb.host),
    tmp: await snapshot(sb.tmp),
    passwd: await Deno.readTextFile("/etc/passwd"),
  });
  const before = await fingerprint();
  return {
    sb: {
      ...sb,
      async assertHostUntouched() {
        assertEquals(await fingerprint(), before);
      },
    },
    layers,
    runner,
    cleanup: async () => {
      await sb.cleanup();
      await Deno.remove(work, { recursive: true });
    },
  };
}

const user = testUser();
const missing = Deno.uid() !== 0
  ? "root (to switch users)"
  : user === undefined
  ? 'the user "polythene-test" (scripts/setup.sh)'
  : hostProgram("setpriv") === undefined
  ? "setpriv"
  : undefined;

testNeeding(
  missing,
  "as a real unprivileged user: owners recorded, devices skipped, setuid dropped",
  async () => {
    const { sb, layers, runner, cleanup } = await userSandbox(user!);
    try {
      const one = await layers("1", [
        { name: "./", type: "dir", mode: 0o755 },
        { name: "etc/", type: "dir" },
        { name: "etc/shadow", content: "s", mode: 0o640, gid: 42 },
        { name: "usr/bin/su", content: "su", mode: 0o4755 },
        { name: "usr/bin/wall", content: "w", mode: 0o2755, gid: 5 },
        { name: "home/u/", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
        { name: "ro/", type: "dir", mode: 0o555 },
        { name: "ro/file", content: "r", mode: 0o444 },
        {
          name: "dev/null",
          type: "char",
          devmajor: 1,
          devminor: 3,
          mode: 0o666,
        },
        {
          name: "dev/sda",
          type: "block",
          devmajor: 8,
          devminor: 0,
          mode: 0o660,
          gid: 6,
        },
        { name: "run/fifo", type: "fifo", mode: 0o600 },
        { name: "tmp/", type: "dir", mode: 0o1777 },
        { name: "evil", type: "symlink", linkname: sb.host },
        { name: "evil/file", content: "pwned" },
        { name: "up", type: "symlink", linkname: "../../.." },
        { name: "up/tmp/x", content: "pwned" },
      ]);
      const two = await layers("2", [
        { name: ".wh.ro" },
        { name: "usr/bin/.wh.wall" },
      ]);
      const result = await runAs(user!, runner, sb.rootfs, [one, two]);
      assert.ok(result.ok, result.message);
      assertEquals(result.ownership, {
        "/dev/null": {
          uid: 0,
          gid: 0,
          mode: 0o666,
          device: { type: "char", major: 1, minor: 3 },
        },
        "/dev/sda": {
          uid: 0,
          gid: 6,
          mode: 0o660,
          device: { type: "block", major: 8, minor: 0 },
        },
        "/etc/shadow": { uid: 0, gid: 42, mode: 0o640 },
        "/home/u": { uid: 1000, gid: 1000, mode: 0o700 },
        "/usr/bin/su": { uid: 0, gid: 0, mode: 0o4755 },
      });
      assert.equal(result.stats![0]!.skippedDevices, 2);
      assert.equal(result.stats![0]!.fifos, 1);
      assert.equal(result.logs.length, 2);
      const u = `${user!.uid}:${user!.gid}`;
      const tree = await snapshot(sb.rootfs);
      assert.equal(tree["/usr/bin/su"], `file 0755 ${u} "su"`);
      assert.equal(tree["/etc/shadow"], `file 0640 ${u} "s"`);
      assert.equal(tree["/home/u"], `dir 0700 ${u}`);
      assert.equal(tree["/tmp"], `dir 1777 ${u}`);
      assert.equal(tree["/run/fifo"], `fifo 0600 ${u}`);
      assert.equal(tree["/dev/null"], undefined);
      assert.equal(tree["/ro"], undefined);
      assert.equal(tree["/usr/bin/wall"], undefined);
      assert.equal(tree[`${sb.host}/file`], `file 0644 ${u} "pwned"`);
      assert.equal(tree["/tmp/x"], `file 0644 ${u} "pwned"`);
      // Every directory stays u+rwx, so the user can remove the entry.
      for (const [path, line] of Object.entries(tree)) {
        if (line.startsWith("dir ")) {
          assert.equal(parseInt(line.slice(4, 8), 8) & 0o700, 0o700, path);
        }
      }
      const rm = await new Deno.Command(hostProgram("setpriv")!, {
        args: [
          `--reuid=${user!.uid}`,
          `--regid=${user!.gid}`,
          "--init-groups",
          "--",
          "rm",
          "-rf",
          sb.rootfs,
        ],
      }).output();
      assert.ok(rm.success, new TextDecoder().decode(rm.stderr));
      assert.ok(!(await exists(sb.rootfs)));
      await sb.assertHostUntouched();
    } finally {
      await cleanup();
    }
  },
);

testNeeding(
  missing,
  "as a real unprivileged user: a hardlink out of the rootfs is refused",
  async () => {
    const { sb, layers, runner, cleanup } = await userSandbox(user!);
    try {
      for (
        const linkname of [
          `../../host/file`,
          `${sb.host}/file`,
          `${sb.tmp}/file`,
        ]
      ) {
        const bad = await layers("bad", [
          { name: "evil", type: "symlink", linkname: sb.host },
          { name: "x", type: "hardlink", linkname },
          { name: "y", type: "hardlink", linkname: "evil/file" },
        ]);
        const result = await runAs(user!, runner, sb.rootfs, [bad]);
        assert.equal(result.ok, false);
        assert.match(result.error!, /LayerPathError|LayerApplyError/);
      }
      assert.equal((await Deno.lstat(`${sb.host}/file`)).nlink, 1);
      assert.equal((await Deno.lstat(`${sb.tmp}/file`)).nlink, 1);
      await sb.assertHostUntouched();
    } finally {
      await cleanup();
    }
  },
);
