/**
 * Images of another architecture run through qemu-user (the rig:
 * `tests/helpers/arch_rig.ts`, a multi-platform busybox index pulled with
 * `--platform linux/arm64`), then `uname -m` under each backend: proot with
 * `-q` as root and as the rig's unprivileged user; bubblewrap and chroot
 * where the kernel has a binfmt_misc entry qemu-aarch64 with the F flag,
 * or over a private binfmt_misc instance that exec makes for the run
 * (kernel >= 6.7; its shapes in `exec_arch_binfmt_test.ts`); otherwise the
 * documented refusal (and with no floor, the fall-back to proot, said on
 * stderr). A PATH without qemu is exit 126 naming it, and the host-wide
 * binfmt_misc instance is the same before and after.
 *
 * The host shape (binfmt entry, private instances, neither) is read from
 * the host, and each shape has its own assertions: this machine may have
 * any.
 *
 * Needs root, the test user, bwrap, proot, setpriv, unshare,
 * qemu-aarch64-static and the registry; under `CI=true` a missing one fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hostProgram, runPolythene } from "../helpers/cli.ts";
import { readBinfmtEntry } from "../../src/backends/emulation_host.ts";
import { BACKEND_TOOLS, show, withPathOf } from "../helpers/exec_shapes.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import {
  archRigMissing,
  archShape,
  hostBinfmt,
  kernelRefusal,
  openArchRig,
  pinned,
  PLATFORM,
} from "../helpers/arch_rig.ts";

const MISSING = await archRigMissing();

testNeeding(MISSING, "exec: arm64 images run under qemu-user", async (t) => {
  await using rig = await openArchRig();
  const { root: { store, uuid }, cli, exec } = rig;
  const { store: userStore, uuid: own } = rig.user;
  const hostInstance = await hostBinfmt();
  const { hostEntry, hostServes, viaPrivate } = await archShape();
  const refusals = {
    bubblewrap: hostServes || viaPrivate
      ? undefined
      : await kernelRefusal("bubblewrap"),
    chroot: hostServes || viaPrivate
      ? undefined
      : await kernelRefusal("chroot"),
  };

  await t.step("inspect and list show the recorded platform", async () => {
    const inspect = await runPolythene(["inspect", "-s", store, uuid]);
    assert.equal(inspect.code, 0, show(inspect));
    assert.match(inspect.stdout, /^platform +linux\/arm64\/v8$/m);
    const list = await runPolythene(["list", "-s", store]);
    assert.match(list.stdout, /\bPLATFORM\b/);
    assert.match(list.stdout, new RegExp(`^${uuid} .* linux/arm64/v8 `, "m"));
  });

  await t.step("proot as root: uname -m prints aarch64", async () => {
    const result = await exec(["--isolation", "proot"]);
    assert.equal(result.code, 0, show(result));
    assert.equal(result.stdout, "aarch64\n");
    assert.match(result.stderr, /using backend proot$/m);
    assert.match(
      result.stderr,
      / -- \S*\/proot -q \S*\/qemu-aarch64(-static)? -r /,
    );
  });

  await t.step("an ephemeral clone keeps the platform", async () => {
    const result = await exec(["--ephemeral", "--isolation", "proot"]);
    assert.equal(result.code, 0, show(result));
    assert.equal(result.stdout, "aarch64\n");
  });

  await t.step(
    "proot as the test user: uname -m prints aarch64",
    async () => {
      const result = await exec(
        ["--isolation", "proot"],
        ["uname", "-m"],
        cli,
        { store: userStore, uuid: own },
      );
      assert.equal(result.code, 0, show(result));
      assert.equal(result.stdout, "aarch64\n");
    },
  );

  for (const backend of ["bubblewrap", "chroot"] as const) {
    const refusal = refusals[backend];
    if (refusal === undefined) {
      await t.step(
        `${backend} over ${
          viaPrivate ? "a private" : "the host's"
        } binfmt_misc entry`,
        async () => {
          const result = await exec(pinned(backend));
          assert.equal(result.code, 0, show(result));
          assert.equal(result.stdout, "aarch64\n");
          if (viaPrivate) {
            assert.match(result.stderr, /private instance yes$/m);
            // Root's own user namespace with the whole id range.
            assert.match(result.stderr, / polythene-userns /);
          }
        },
      );
      continue;
    }
    await t.step(`${backend}: the documented refusal, exit 126`, async () => {
      // Only this backend's programs (and qemu): nothing to fall back to.
      const tools = [
        "sh",
        "cat",
        "qemu-aarch64-static",
        ...BACKEND_TOOLS[backend],
      ];
      await withPathOf(tools, async (path) => {
        const result = await exec(["--isolation", backend], ["uname", "-m"], {
          path,
        });
        assert.equal(result.code, 126, show(result));
        assert.equal(result.stdout, "");
        assert.ok(
          result.stderr.includes(`${backend} ${refusal}`),
          show(result),
        );
        assert.match(
          result.stderr,
          /update-binfmts --enable qemu-aarch64\)$/m,
        );
      });
    });
    await t.step(
      `${backend} with no floor: proot, said on stderr`,
      async () => {
        const result = await exec(["--isolation", backend]);
        assert.equal(result.code, 0, show(result));
        assert.equal(result.stdout, "aarch64\n");
        assert.ok(
          result.stderr.includes(`${backend} unusable here (${refusal})`),
          show(result),
        );
        assert.match(result.stderr, /; using proot$/m);
      },
    );
  }

  await t.step(
    "bubblewrap over an F entry made outside polythene",
    async () => {
      // The other host shape, made without touching the host: a user
      // namespace with its own binfmt_misc (kernel >= 6.7), where qemu
      // is registered with the F flag; polythene runs inside it.
      const result = await exec(pinned("bubblewrap"), ["uname", "-m"], {
        prefix: [
          "unshare",
          "--user",
          "--map-root-user",
          "--mount",
          "sh",
          "-c",
          PRIVATE_BINFMT,
          "sh",
          hostProgram("qemu-aarch64-static")!,
        ],
      });
      assert.equal(result.code, 0, show(result));
      assert.equal(result.stdout, "aarch64\n");
      assert.match(
        result.stderr,
        /binfmt_misc F, private instance no \(not needed\)$/m,
      );
      assert.match(result.stderr, /using backend bubblewrap$/m);
    },
  );

  await t.step("doctor says which backends run arm64 images", async () => {
    const result = await runPolythene(["doctor", "--json", "-s", store]);
    const report = JSON.parse(result.stdout);
    const arm = report.emulation.find((a: { arch: string }) =>
      a.arch === "aarch64"
    );
    assert.equal(arm.platform, "linux/arm64", result.stdout);
    assert.equal(arm.qemu, hostProgram("qemu-aarch64-static"));
    const verdicts = Object.fromEntries(
      arm.backends.map((b: { name: string; usable: boolean }) => [
        b.name,
        b.usable,
      ]),
    );
    assert.deepEqual(verdicts, {
      bubblewrap: refusals.bubblewrap === undefined,
      proot: true,
      chroot: refusals.chroot === undefined,
    });
    const text = await runPolythene(["doctor", "-s", store]);
    if (viaPrivate) {
      for (const backend of ["bubblewrap", "chroot"]) {
        assert.ok(
          text.stdout.includes(
            `    ${backend}: works (over a private binfmt_misc instance)\n`,
          ),
          text.stdout,
        );
      }
    }
    if (refusals.chroot !== undefined) {
      assert.ok(
        text.stdout.includes(
          `    chroot: no: ${
            refusals.chroot.replace(PLATFORM, "linux/arm64")
          }; fix: as root: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-aarch64\n`,
        ),
        text.stdout,
      );
    }
    await withPathOf(["sh", "cat", "bwrap", "proot"], async (path) => {
      const bare = await runPolythene(["doctor", "--json", "-s", store], {
        path,
      });
      assert.deepEqual(JSON.parse(bare.stdout).emulation, []);
    });
  });

  await t.step("a PATH without qemu: exit 126 naming it", async () => {
    const tools = [
      ...new Set(["sh", "cat", ...Object.values(BACKEND_TOOLS).flat()]),
    ];
    await withPathOf(tools, async (path) => {
      for (const backend of ["bubblewrap", "proot", "chroot"] as const) {
        const result = await exec(pinned(backend), ["uname", "-m"], { path });
        const refusal = backend === "proot"
          ? undefined
          : await kernelRefusal(backend, false);
        if (backend !== "proot" && refusal === undefined) {
          // The kernel holds the interpreter open: PATH does not matter.
          assert.equal(result.code, 0, show(result));
          continue;
        }
        assert.equal(result.code, 126, `${backend}\n${show(result)}`);
        assert.equal(result.stdout, "");
        const why = backend === "proot"
          ? "proot cannot run linux/arm64/v8 images: no qemu-aarch64-static or qemu-aarch64 on PATH"
          : `${backend} ${refusal}`;
        assert.ok(result.stderr.includes(why), show(result));
        if (backend === "proot") {
          assert.match(
            result.stderr,
            /on PATH \(apt-get install qemu-user-static\)$/m,
          );
        }
      }
      if (!hostServes) {
        const any = await exec([], ["uname", "-m"], { path });
        assert.equal(any.code, 126, show(any));
        assert.match(any.stderr, /no qemu-aarch64-static or qemu-aarch64/);
      }
    });
  });

  await t.step("the host's binfmt_misc is as it was", async () => {
    assert.deepEqual(
      await readBinfmtEntry("aarch64", Deno.env.get("PATH")!),
      hostEntry,
    );
    assert.equal(await hostBinfmt(), hostInstance);
  });
});

/**
 * Mounts a binfmt_misc instance of this user namespace and registers `$1`
 * (qemu-aarch64-static) for aarch64 ELF binaries with the F flag, as
 * Debian's qemu-user-static does host-wide; then runs the rest.
 */
const PRIVATE_BINFMT = `set -e
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
magic='\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00'
mask='\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff'
printf '%s' ":qemu-aarch64:M::$magic:$mask:$1:F" >/proc/sys/fs/binfmt_misc/register
shift
exec "$@"`;
