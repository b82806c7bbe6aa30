/**
 * `exec --network` and `--hosts` through the real CLI, on every backend, as
 * root and as the unprivileged user (see `exec_shapes.ts`):
 *
 * - `--network host` reaches a listener on the host's loopback, and
 *   `--network none` cannot (proot cannot isolate the network: refused);
 * - the command sees the host's `/etc/resolv.conf` and `/etc/hosts` by
 *   default and the image's with `--hosts image`;
 * - a rootfs whose `etc/resolv.conf` and `etc/hosts` are symlinks to host
 *   sentinel files cannot make polythene read or write them.
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

/** A TCP listener on 127.0.0.1 that counts connections. */
function listen() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const done = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    count: () => connections,
    async close() {
      listener.close();
      await done;
    },
  };
}

testEachShape("exec network: host and none", undefined, async (ctx) => {
  const { backend } = ctx.shape;
  const server = listen();
  try {
    const connect = ["nc", "-w", "3", "127.0.0.1", String(server.port)];
    const open = await ctx.exec(["--network", "host"], connect);
    if (!ctx.shape.runnable) {
      assertRefused(open, backend, /needs real root/);
      return;
    }
    assertRan(open, backend, 0);
    assert.equal(server.count(), 1, `connected\n${show(open)}`);

    const closed = await ctx.exec(["--network", "none"], connect);
    if (backend === "proot") {
      assertRefused(closed, backend, /cannot isolate the network/);
    } else {
      assertRan(closed, backend, 1);
    }
    assert.equal(server.count(), 1, `no new connection\n${show(closed)}`);
  } finally {
    await server.close();
  }
});

testEachShape("exec hosts: resolv.conf and hosts", undefined, async (ctx) => {
  const { backend } = ctx.shape;
  const etc = `${ctx.staged.rootfs}/etc`;
  await Deno.writeTextFile(`${etc}/resolv.conf`, "nameserver 192.0.2.1\n");
  await Deno.writeTextFile(`${etc}/hosts`, "192.0.2.2 image-host\n");
  await ctx.own(etc);
  const hostFiles = await Deno.readTextFile("/etc/resolv.conf") +
    await Deno.readTextFile("/etc/hosts");
  const cat = ["cat", "/etc/resolv.conf", "/etc/hosts"];

  const fromHost = await ctx.exec([], cat);
  if (!ctx.shape.runnable) {
    assertRefused(fromHost, backend, /needs real root/);
    return;
  }
  assertRan(fromHost, backend, 0, hostFiles);
  const fromImage = await ctx.exec(["--hosts", "image"], cat);
  assertRan(
    fromImage,
    backend,
    0,
    "nameserver 192.0.2.1\n192.0.2.2 image-host\n",
  );
  // A write changes a private copy (or fails), never the rootfs's file.
  await ctx.exec([], ["sh", "-c", "echo evil > /etc/resolv.conf"]);
  assert.equal(
    await Deno.readTextFile(`${etc}/resolv.conf`),
    "nameserver 192.0.2.1\n",
  );

  // Hostile: the rootfs's files are symlinks to host sentinels.
  const outside = await Deno.makeTempDir({ prefix: "polythene-sentinel-" });
  try {
    await Deno.writeTextFile(`${outside}/resolv`, "SENTINEL resolv\n");
    await Deno.chmod(`${outside}/resolv`, 0o666);
    await Deno.remove(`${etc}/resolv.conf`);
    await Deno.remove(`${etc}/hosts`);
    await Deno.symlink(`${outside}/resolv`, `${etc}/resolv.conf`);
    await Deno.symlink(`../../../../../../..${outside}/hosts`, `${etc}/hosts`);
    await ctx.own(etc);
    // The write may succeed (on a private copy) or be refused; the script
    // says which and exits 0 either way, so its exit code is checked.
    const hostile = await ctx.exec([], [
      "sh",
      "-c",
      "cat /etc/resolv.conf /etc/hosts; " +
      "if echo evil 2>/dev/null > /etc/resolv.conf; then echo wrote; " +
      "else echo refused; fi",
    ]);
    assertRan(hostile, backend, 0);
    assert.ok(
      [`${hostFiles}wrote\n`, `${hostFiles}refused\n`].includes(
        hostile.stdout,
      ),
      show(hostile),
    );
    assert.equal(
      await Deno.readTextFile(`${outside}/resolv`),
      "SENTINEL resolv\n",
      "the host sentinel is unchanged",
    );
    await assert.rejects(
      Deno.lstat(`${outside}/hosts`),
      Deno.errors.NotFound,
      "nothing was created outside the rootfs",
    );
    // The mount points were made inside the rootfs instead.
    assert.ok(
      (await Deno.lstat(`${ctx.staged.rootfs}${outside}/resolv`)).isFile,
    );
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});
