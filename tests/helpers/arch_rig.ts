/**
 * The rig of the foreign-architecture CLI tests (`exec_arch_test.ts`,
 * `exec_arch_binfmt_test.ts`): a multi-platform index (the host's busybox
 * for linux/amd64, Debian's busybox-static:arm64 for linux/arm64) on the
 * loopback registry, pulled with `--platform linux/arm64` into a store of
 * root's and one of the test user's; and what this host's kernel offers
 * for arm64, read from the host, not from exec's decision.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  arm64Busybox,
  arm64BusyboxImage,
  arm64BusyboxMissing,
} from "../../scripts/busybox_arm64.ts";
import {
  hostEntryUsable,
  privateBinfmtRefusal,
} from "../../src/backends/binfmt.ts";
import {
  type BinfmtEntry,
  emulationRefusal,
} from "../../src/backends/emulation.ts";
import { readBinfmtEntry } from "../../src/backends/emulation_host.ts";
import type { BackendName } from "../../src/backends/names.ts";
import {
  type CliOptions,
  type CliResult,
  hostProgram,
  runPolythene,
  sourceReadableBy,
} from "./cli.ts";
import { runCommand, runOrThrow } from "./command.ts";
import { show } from "./exec_shapes.ts";
import { missingFor, onHostPath, testUser } from "./fixtures.ts";
import { buildImage, buildIndex } from "./oci_image.ts";
import { busyboxEntries } from "./pull_checks.ts";
import { pushImage, registryMissing, startRegistry } from "./registry.ts";

/** The platform `pull` records for the arm64 image. */
export const PLATFORM = "linux/arm64/v8";

/** The rig's test user. */
export const USER = testUser();

/** Docker's default capability set as a mask (see exec_capabilities_test). */
export const DOCKER_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
  .reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);

/** What the rig needs, as `testNeeding` takes it. */
export async function archRigMissing(): Promise<string | undefined> {
  return missingFor({
    root: true,
    user: true,
    programs: ["bwrap", "proot", "setpriv", "unshare", "qemu-aarch64-static"],
    found: onHostPath,
    also: [registryMissing(), await arm64BusyboxMissing()],
  });
}

/** This host's kernel, for arm64. */
export interface ArchShape {
  /** The host's binfmt_misc entry qemu-aarch64, if any. */
  hostEntry?: BinfmtEntry;
  /** An enabled host entry with F: bubblewrap and chroot use it. */
  hostServes: boolean;
  /** No such entry, and a kernel of 6.7 or later: a private instance. */
  viaPrivate: boolean;
}

/** Reads {@linkcode ArchShape} from the host. */
export async function archShape(): Promise<ArchShape> {
  const hostEntry = await readBinfmtEntry("aarch64", Deno.env.get("PATH")!);
  const hostServes = hostEntry !== undefined && hostEntry.enabled &&
    hostEntry.flags.includes("F");
  const [major, minor] = Deno.osRelease().split(".").map(Number);
  const viaPrivate = !hostServes &&
    (major! > 6 || (major === 6 && minor! >= 7));
  return { ...(hostEntry ? { hostEntry } : {}), hostServes, viaPrivate };
}

/**
 * What `backend` says about arm64 here, its text as exec words it (a
 * private instance counted when the kernel gives one and `withQemu`).
 */
export async function kernelRefusal(
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
export async function hostBinfmt(): Promise<string> {
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

/** `--isolation B --isolation-floor B`: B or nothing. */
export function pinned(backend: BackendName): string[] {
  return ["--isolation", backend, "--isolation-floor", backend];
}

/** An entry in a store. */
export interface At {
  store: string;
  uuid: string;
}

/** The staged rig; disposing it stops the registry and removes the stores. */
export interface ArchRig extends AsyncDisposable {
  /** The index's reference on the loopback registry. */
  ref: string;
  /** root's store and entry. */
  root: At;
  /** The test user's store and entry. */
  user: At;
  /** Runs polythene as the test user. */
  cli: CliOptions;
  /** `pull --platform linux/arm64` into `store`; returns the UUID. */
  pull(store: string, cli?: CliOptions): Promise<string>;
  /** `exec --verbose` in `at` (root's entry by default). */
  exec(
    flags: string[],
    argv?: string[],
    cli?: CliOptions,
    at?: At,
  ): Promise<CliResult>;
}

/** Pushes the index and pulls it as root and as the test user. */
export async function openArchRig(): Promise<ArchRig> {
  const registry = await startRegistry();
  const dir = await Deno.makeTempDir({ prefix: "polythene-arch-" });
  const source = await sourceReadableBy(USER!);
  const close = async () => {
    await Deno.remove(dir, { recursive: true });
    await source.cleanup();
    await registry[Symbol.asyncDispose]();
  };
  try {
    const arm64 = await arm64BusyboxImage(await arm64Busybox());
    const amd64 = await buildImage({
      layers: [{
        entries: busyboxEntries(["sh", "uname"]),
        compression: "gzip",
      }],
      platform: { os: "linux", architecture: "amd64" },
    });
    await pushImage(
      registry,
      "test/multi",
      "1",
      await buildIndex([amd64, arm64]),
    );
    const ref = `${registry.host}/test/multi:1`;
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
    const root = { store: `${dir}/root-store`, uuid: "" };
    root.uuid = await pull(root.store);
    const cli = { user: USER, source: source.dir };
    const user = { store: `${dir}/user-store`, uuid: "" };
    await Deno.mkdir(user.store, { mode: 0o700 });
    await runOrThrow(["chown", `${USER!.uid}:${USER!.gid}`, user.store]);
    user.uuid = await pull(user.store, cli);
    return {
      ref,
      root,
      user,
      cli,
      pull,
      exec: (flags, argv = ["uname", "-m"], options = {}, at = root) =>
        runPolythene([
          "exec",
          "--verbose",
          "--store",
          at.store,
          ...flags,
          at.uuid,
          "--",
          ...argv,
        ], options),
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
