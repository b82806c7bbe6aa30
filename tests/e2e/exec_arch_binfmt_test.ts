/**
 * Foreign images over a private binfmt_misc instance (`src/backends/binfmt.ts`),
 * on a host without a binfmt_misc entry for arm64 and a kernel of 6.7 or
 * later (the rig: `tests/helpers/arch_rig.ts`): as root, bubblewrap and
 * chroot keep Docker's capabilities and see the whole id range, run
 * `--user 1000` and `--ephemeral` (writing to the overlay); as the test
 * user, bubblewrap plain, `--ephemeral` and under each `--id-map`; without
 * `unshare` on PATH the instance cannot be made, which is the documented
 * refusal under the floor and the fall-back to proot without it. The
 * host-wide binfmt_misc instance is the same before and after. On other
 * hosts `exec_arch_test.ts` covers their shape and this file registers
 * nothing.
 *
 * Needs what the rig needs; under `CI=true` a missing one fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { show, withPathOf } from "../helpers/exec_shapes.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import {
  archRigMissing,
  archShape,
  DOCKER_CAPS,
  hostBinfmt,
  openArchRig,
  pinned,
} from "../helpers/arch_rig.ts";

const MISSING = await archRigMissing();

if (MISSING !== undefined || (await archShape()).viaPrivate) {
  testNeeding(
    MISSING,
    "exec: arm64 images over a private binfmt_misc instance",
    async (t) => {
      await using rig = await openArchRig();
      const { cli, exec } = rig;
      const { store: userStore, uuid: own } = rig.user;
      const hostInstance = await hostBinfmt();

      for (const backend of ["bubblewrap", "chroot"] as const) {
        await t.step(
          `${backend}, private instance: root keeps Docker's capabilities`,
          async () => {
            const result = await exec(pinned(backend), [
              "grep",
              "^Cap",
              "/proc/self/status",
            ]);
            assert.equal(result.code, 0, show(result));
            const sets = Object.fromEntries(
              [...result.stdout.matchAll(/^(Cap\w+):\s*(\S+)$/gm)].map((
                [, k, v],
              ) => [k, BigInt(`0x${v}`)]),
            );
            // bwrap as root cannot narrow the bounding set (as without
            // emulation); setpriv does.
            if (backend === "bubblewrap") delete sets.CapBnd;
            assert.deepEqual(sets, {
              CapInh: DOCKER_CAPS,
              CapPrm: DOCKER_CAPS,
              CapEff: DOCKER_CAPS,
              ...(backend === "chroot" ? { CapBnd: DOCKER_CAPS } : {}),
              CapAmb: DOCKER_CAPS,
            }, result.stdout);
            // Files keep their owners: the whole id range is mapped.
            const map = await exec(pinned(backend), [
              "cat",
              "/proc/self/uid_map",
            ]);
            assert.match(map.stdout, /^\s*0\s+0\s+4294967295$/m, show(map));
          },
        );
        await t.step(
          `${backend}, private instance: --user 1000`,
          async () => {
            const result = await exec(
              ["--user", "1000:1000", ...pinned(backend)],
              ["sh", "-c", "id -u; uname -m"],
            );
            assert.equal(result.code, 0, show(result));
            assert.equal(result.stdout, "1000\naarch64\n");
          },
        );
        await t.step(
          `${backend}, private instance: --ephemeral`,
          async () => {
            // The overlay is writable in the run's namespaces.
            const result = await exec(["--ephemeral", ...pinned(backend)], [
              "sh",
              "-c",
              "uname -m >/written && cat /written",
            ]);
            assert.equal(result.code, 0, show(result));
            assert.equal(result.stdout, "aarch64\n");
            assert.match(result.stderr, /private instance yes$/m);
          },
        );
      }
      for (
        const flags of [
          [],
          ["--ephemeral"],
          ["--id-map", "fake"],
          ["--id-map", "full"],
          ["--id-map", "full", "--ephemeral"],
        ]
      ) {
        await t.step(
          `bubblewrap, private instance, as the test user ${flags.join(" ")}`,
          async () => {
            const result = await exec(
              [...flags, ...pinned("bubblewrap")],
              ["uname", "-m"],
              cli,
              { store: userStore, uuid: own },
            );
            assert.equal(result.code, 0, show(result));
            assert.equal(result.stdout, "aarch64\n");
            assert.match(result.stderr, /private instance yes$/m);
          },
        );
      }

      await t.step(
        "as the test user, no private instance (no unshare): the refusal and the floor",
        async () => {
          const tools = [
            "sh",
            "cat",
            "bwrap",
            "proot",
            "qemu-aarch64-static",
          ];
          await withPathOf(tools, async (path) => {
            const at = { store: userStore, uuid: own };
            const why =
              "bubblewrap cannot run linux/arm64/v8 images: the kernel has no binfmt_misc entry qemu-aarch64, and no private instance (unshare, mount not on PATH)";
            const floor = await exec(pinned("bubblewrap"), ["uname", "-m"], {
              ...cli,
              path,
            }, at);
            assert.equal(floor.code, 126, show(floor));
            assert.equal(floor.stdout, "");
            assert.ok(floor.stderr.includes(why), show(floor));
            const fallback = await exec(
              ["--isolation", "bubblewrap"],
              ["uname", "-m"],
              { ...cli, path },
              at,
            );
            assert.equal(fallback.code, 0, show(fallback));
            assert.equal(fallback.stdout, "aarch64\n");
            assert.match(
              fallback.stderr,
              /\(unshare, mount not on PATH\)\); using proot$/m,
            );
          });
        },
      );

      await t.step("the host's binfmt_misc instance is as it was", async () => {
        assert.equal(await hostBinfmt(), hostInstance);
      });
    },
  );
}
