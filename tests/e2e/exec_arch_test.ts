/**
 * Images of another architecture run through qemu-user: a multi-platform
 * index (the host's busybox for linux/amd64, Debian's busybox-static:arm64
 * for linux/arm64, `scripts/busybox_arm64.ts`) on the loopback registry,
 * pulled with `--platform linux/arm64`, then `uname -m` under each backend:
 * proot with `-q` as root and as the rig's unprivileged user; bubblewrap and
 * chroot where the kernel has a binfmt_misc entry qemu-aarch64 with the F
 * flag; without one, over a private binfmt_misc instance that exec makes
 * for the run (kernel >= 6.7): bubblewrap as root and as the user, plain,
 * `--ephemeral` and each `--id-map`, chroot as root, plain and
 * `--ephemeral`, with Docker's capabilities and the whole id range as root,
 * and the host-wide binfmt_misc instance the same before and after. Where
 * neither can be had (an older kernel; here, the test user without
 * `unshare` on PATH), the documented refusal, exit 126 under the floor, and
 * without it the fall-back to proot, said on stderr. A PATH without qemu is
 * exit 126 naming it.
 *
 * The host shape (binfmt entry or none) is read the way exec reads it, and
 * each shape has its own assertions: this machine may have either.
 *
 * Needs root, the test user, bwrap, proot, setpriv, unshare,
 * qemu-aarch64-static and the registry; under `CI=true` a missing one fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  arm64Busybox,
  arm64BusyboxImage,
  arm64BusyboxMissing,
} from "../../scripts/busybox_arm64.ts";
import { emulationRefusal } from "../../src/backends/emulation.ts";
import {
  hostEntryUsable,
  privateBinfmtRefusal,
} from "../../src/backends/binfmt.ts";
import { readBinfmtEntry } from "../../src/backends/emulation_host.ts";
import type { BackendName } from "../../src/backends/names.ts";
import {
  type CliOptions,
  hostProgram,
  runPolythene,
  sourceReadableBy,
} from "../helpers/cli.ts";
import { runCommand, runOrThrow } from "../helpers/command.ts";
import { BACKEND_TOOLS, show, withPathOf } from "../helpers/exec_shapes.ts";
import { testNeeding, testUser } from "../helpers/fixtures.ts";
import { buildImage, buildIndex } from "../helpers/oci_image.ts";
import { busyboxEntries } from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const USER = testUser();
const PLATFORM = "linux/arm64/v8";

const MISSING = await (async () => {
  const missing: string[] = [];
  if (Deno.uid() !== 0) missing.push("root (uid 0)");
  if (USER === undefined) missing.push('the user "polythene-test"');
  for (
    const program of [
      "bwrap",
      "proot",
      "setpriv",
      "unshare",
      "qemu-aarch64-static",
    ]
  ) {
    if (hostProgram(program) === undefined) missing.push(program);
  }
  const registry = registryMissing();
  if (registry !== undefined) missing.push(registry);
  const busybox = await arm64BusyboxMissing();
  if (busybox !== undefined) missing.push(busybox);
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
})();

/**
 * What `backend` says about arm64 here, as exec decides it: bubblewrap
 * over a private instance where the host has no usable entry and the
 * kernel gives one (`privateRefusal`: why not, else undefined).
 */
async function kernelRefusal(
  backend: "bubblewrap" | "chroot",
  withQemu = true,
): Promise<string | undefined> {
  const qemu = withQemu ? hostProgram("qemu-aarch64-static") : undefined;
  const binfmt = await readBinfmtEntry("aarch64", Deno.env.get("PATH")!);
  const why = privateBinfmtRefusal(Deno.osRelease(), {
    arch: "aarch64",
    ...(qemu ? { qemu } : {}),
  });
  return emulationRefusal(backend, {
    platform: PLATFORM,
    arch: "aarch64",
    ...(binfmt ? { binfmt } : {}),
    ...(hostEntryUsable(binfmt)
      ? {}
      : why === undefined
      ? { privateBinfmt: {} as never }
      : { privateRefusal: why }),
  });
}

/**
 * The host-wide binfmt_misc instance's entries, with their text: mounted
 * afresh in a throwaway mount namespace (as root in the initial user
 * namespace this is the host's one instance, mounted or not on the host),
 * so a registration made there shows even where the host never mounted it.
 */
async function hostBinfmt(): Promise<string> {
  const out = await runCommand([
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    `mount -t binfmt_misc polythene-test-binfmt /proc/sys/fs/binfmt_misc
cd /proc/sys/fs/binfmt_misc
for f in *; do [ "$f" = register ] || { echo "== $f"; cat "$f"; }; done`,
  ]);
  assert.equal(out.code, 0, show(out));
  return out.stdout;
}

/** Docker's default capability set as a mask (see exec_capabilities_test). */
const DOCKER_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
  .reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);

testNeeding(MISSING, "exec: arm64 images run under qemu-user", async (t) => {
  await using registry = await startRegistry();
  const arm64 = await arm64BusyboxImage(await arm64Busybox());
  const amd64 = await buildImage({
    layers: [{ entries: busyboxEntries(["sh", "uname"]), compression: "gzip" }],
    platform: { os: "linux", architecture: "amd64" },
  });
  await pushImage(
    registry,
    "test/multi",
    "1",
    await buildIndex([amd64, arm64]),
  );
  const ref = `${registry.host}/test/multi:1`;
  const dir = await Deno.makeTempDir({ prefix: "polythene-arch-" });
  const source = await sourceReadableBy(USER!);
  try {
    await Deno.chmod(dir, 0o755);
    const pull = async (store: string, cli: CliOptions = {}) => {
      const result = await runPolythene([
        "pull",
        "--quiet",
        "--store",
        store,
        "--platform",
        "linux/arm64",
        ref,
      ], cli);
      assert.equal(result.code, 0, show(result));
      return result.stdout.trim();
    };
    const store = `${dir}/root-store`;
    const uuid = await pull(store);
    const exec = (
      flags: string[],
      argv = ["uname", "-m"],
      cli: CliOptions = {},
      at = { store, uuid },
    ) =>
      runPolythene([
        "exec",
        "--verbose",
        "--store",
        at.store,
        ...flags,
        at.uuid,
        "--",
        ...argv,
      ], cli);

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

    const userStore = `${dir}/user-store`;
    const cli = { user: USER, source: source.dir };
    let own = "";
    await t.step(
      "proot as the test user: uname -m prints aarch64",
      async () => {
        await Deno.mkdir(userStore, { mode: 0o700 });
        await runOrThrow(["chown", `${USER!.uid}:${USER!.gid}`, userStore]);
        own = await pull(userStore, cli);
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

    const hostEntry = await readBinfmtEntry("aarch64", Deno.env.get("PATH")!);
    const hostInstance = await hostBinfmt();
    // Read from the host, not from exec's decision: an enabled host entry
    // with F serves both; without one, bubblewrap runs over a private
    // instance that exec makes where the kernel is 6.7 or later.
    const hostServes = hostEntry !== undefined && hostEntry.enabled &&
      hostEntry.flags.includes("F");
    const [major, minor] = Deno.osRelease().split(".").map(Number);
    const viaPrivate = !hostServes &&
      (major! > 6 || (major === 6 && minor! >= 7));
    const refusals = {
      bubblewrap: hostServes || viaPrivate
        ? undefined
        : await kernelRefusal("bubblewrap"),
      chroot: hostServes || viaPrivate
        ? undefined
        : await kernelRefusal("chroot"),
    };
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

    if (viaPrivate) {
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
        await t.step(`${backend}, private instance: --user 1000`, async () => {
          const result = await exec(
            ["--user", "1000:1000", ...pinned(backend)],
            ["sh", "-c", "id -u; uname -m"],
          );
          assert.equal(result.code, 0, show(result));
          assert.equal(result.stdout, "1000\naarch64\n");
        });
        await t.step(`${backend}, private instance: --ephemeral`, async () => {
          // The overlay is writable in the run's namespaces.
          const result = await exec(["--ephemeral", ...pinned(backend)], [
            "sh",
            "-c",
            "uname -m >/written && cat /written",
          ]);
          assert.equal(result.code, 0, show(result));
          assert.equal(result.stdout, "aarch64\n");
          assert.match(result.stderr, /private instance yes$/m);
        });
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
    }

    if (viaPrivate) {
      await t.step(
        "as the test user, no private instance (no unshare): the refusal and the floor",
        async () => {
          const tools = ["sh", "cat", "bwrap", "proot", "qemu-aarch64-static"];
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
  } finally {
    await Deno.remove(dir, { recursive: true });
    await source.cleanup();
  }
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

/** `--isolation B --isolation-floor B`: B or nothing. */
function pinned(backend: BackendName): string[] {
  return ["--isolation", backend, "--isolation-floor", backend];
}
