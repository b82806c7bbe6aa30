/**
 * A guest never holds more than Docker's default capabilities. In every
 * backend, as root and as the rig's unprivileged user, the command reads its
 * own capability sets and `NoNewPrivs` from `/proc/self/status`, and a real
 * `open_by_handle_at` (the "shocker" escape, a static C program built here
 * with `gcc -static`) is aimed at a sentinel file beside the store: it must
 * fail with EPERM and leave the sentinel as it was. As root that payload
 * runs in the jail of `tests/helpers/jail.ts` (the host read-only but for
 * the test's own directory).
 *
 * Needs root, gcc and each backend's programs; under `CI=true` a missing one
 * fails the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertRan,
  assertRefused,
  type ShapeContext,
  show,
  testEachShape,
} from "../helpers/exec_shapes.ts";
import {
  buildStatic,
  cProbesMissing,
  HANDLE_PROBE_C,
} from "../helpers/c_probes.ts";
import { jailPrefix } from "../helpers/jail.ts";

/**
 * Docker's default set, as a mask: CHOWN 0, DAC_OVERRIDE 1, FOWNER 3,
 * FSETID 4, KILL 5, SETGID 6, SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10,
 * NET_RAW 13, SYS_CHROOT 18, MKNOD 27, AUDIT_WRITE 29, SETFCAP 31.
 */
const DOCKER = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
  .reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
const NONE = 0n;
/** This test process's own bounding set: what "full" means here. */
const HOST_BOUNDING = capabilities(
  Deno.readTextFileSync("/proc/self/status"),
).CapBnd!;

/** The `Cap*` lines of a `/proc/PID/status` as numbers, and `NoNewPrivs`. */
function capabilities(status: string): Record<string, bigint> {
  const sets: Record<string, bigint> = {};
  for (const match of status.matchAll(/^(Cap\w+|NoNewPrivs):\s*(\S+)$/gm)) {
    const [, key, value] = match;
    sets[key!] = key === "NoNewPrivs" ? BigInt(value!) : BigInt(`0x${value}`);
  }
  return sets;
}

/** What each set must be, by shape. */
function expected(
  backend: string,
  asUser: boolean,
  guestUid: number,
): Record<string, bigint> {
  const all = (value: bigint, bounding: bigint) => ({
    CapInh: value,
    CapPrm: value,
    CapEff: value,
    CapAmb: value,
    CapBnd: bounding,
    NoNewPrivs: 1n,
  });
  if (asUser) {
    // bubblewrap: uid 0 of a user namespace, narrowed there too; proot:
    // the user's own process, faked root, nothing at all.
    if (backend === "bubblewrap") {
      return guestUid === 0 ? all(DOCKER, DOCKER) : all(NONE, NONE);
    }
    return { ...all(NONE, HOST_BOUNDING), NoNewPrivs: 0n };
  }
  if (backend === "bubblewrap") {
    // Real root without a user namespace: bwrap cannot narrow the bounding
    // set; uid 1000 gets a user namespace and no capabilities.
    return guestUid === 0
      ? all(DOCKER, HOST_BOUNDING)
      : all(NONE, HOST_BOUNDING);
  }
  if (backend === "proot") return all(DOCKER, DOCKER); // --user is faked
  // chroot: the setuid to another uid drops every set but inheritable.
  return guestUid === 0
    ? all(DOCKER, DOCKER)
    : { ...all(NONE, DOCKER), CapInh: DOCKER };
}

/** Reads the guest's sets, as root in the guest and as uid 1000. */
async function guestSets(
  ctx: ShapeContext,
  user: string[],
): Promise<Record<string, bigint> | undefined> {
  const result = await ctx.exec(user, ["cat", "/proc/self/status"]);
  if (!ctx.shape.runnable) {
    assertRefused(result, ctx.shape.backend, /needs real root/);
    return undefined;
  }
  assertRan(result, ctx.shape.backend, 0);
  return capabilities(result.stdout);
}

function hex(sets: Record<string, bigint>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sets).map(([k, v]) => [k, v.toString(16).padStart(16, "0")]),
  );
}

testEachShape(
  "exec capabilities: at most Docker's default set",
  undefined,
  async (ctx) => {
    const { backend, user } = ctx.shape;
    for (const guestUid of [0, 1000]) {
      const sets = await guestSets(
        ctx,
        guestUid === 0 ? [] : ["--user", "1000:1000"],
      );
      if (sets === undefined) return;
      if (guestUid !== 0) {
        // The ids were still set with the capabilities dropped.
        const ids = await ctx.exec(["--user", "1000:1000"], [
          "sh",
          "-c",
          "id -u; id -g",
        ]);
        assertRan(ids, backend, 0, "1000\n1000\n");
      }
      assert.deepEqual(
        hex(sets),
        hex(expected(backend, user !== undefined, guestUid)),
        `${backend} as ${user ? "user" : "root"}, guest uid ${guestUid}`,
      );
    }
  },
);

testEachShape(
  "exec capabilities: open_by_handle_at on a host file fails with EPERM",
  undefined,
  async (ctx) => {
    // The staged store's own temporary directory: the store and the
    // sentinel share its filesystem, and it is all the jail leaves writable.
    const area = ctx.staged.store.replace(/\/store$/, "");
    const tmp = await Deno.makeTempDir({ dir: area, prefix: "handle-" });
    try {
      // The sentinel sits beside the store, on the same filesystem as the
      // rootfs, so only the missing capability can stop the open.
      const sentinel = `${tmp}/sentinel`;
      await Deno.writeTextFile(sentinel, "host\n", { mode: 0o666 });
      const probe = await buildStatic(HANDLE_PROBE_C, tmp, "handle-probe");
      const encoded = await new Deno.Command(probe, {
        args: ["encode", sentinel],
      }).output();
      const handle = new TextDecoder().decode(encoded.stdout).trim();
      assert.match(handle, /^\d+ [0-9a-f]+$/, `the host encodes ${sentinel}`);
      const [type, bytes] = handle.split(" ");
      await Deno.copyFile(probe, `${ctx.staged.rootfs}/bin/handle-probe`);
      await Deno.chmod(`${ctx.staged.rootfs}/bin/handle-probe`, 0o755);

      // As root the payload runs jailed: the host is read-only but for
      // `area`, and for proot also /tmp, where proot 5.1 must write its
      // loader (it ignores PROOT_TMP_DIR for that). An unprivileged user
      // cannot make the jail, nor needs it.
      const writable = ctx.shape.backend === "proot" ? [area, "/tmp"] : [area];
      const jail = ctx.shape.user === undefined
        ? { prefix: jailPrefix(writable), env: { TMPDIR: area } }
        : {};
      const result = await ctx.exec(
        [],
        ["/bin/handle-probe", "open", type!, bytes!],
        jail,
      );
      if (!ctx.shape.runnable) {
        assertRefused(result, ctx.shape.backend, /needs real root/);
        return;
      }
      assertRan(result, ctx.shape.backend, 1, "errno=1\n");
      assert.equal(await Deno.readTextFile(sentinel), "host\n", show(result));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  cProbesMissing(),
);
