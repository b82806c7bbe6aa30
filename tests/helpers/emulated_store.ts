/**
 * A temporary store holding one arm64 busybox entry whose metadata records
 * the platform `linux/arm64/v8`, as `pull --platform linux/arm64` would:
 * exec then runs it through qemu-user (`src/backends/emulation.ts`).
 *
 * @module
 */

import {
  arm64Busybox,
  arm64BusyboxMissing,
} from "../../scripts/busybox_arm64.ts";
import { makeBusyboxRootfs } from "../../scripts/busybox_rootfs.ts";
import { writeMetadata } from "../../src/store/metadata.ts";
import {
  hostEntryUsable,
  privateBinfmtRefusal,
} from "../../src/backends/binfmt.ts";
import { readBinfmtEntry } from "../../src/backends/emulation_host.ts";
import { hostProgram } from "./cli.ts";
import type { StagedStore } from "./fixtures.ts";
import { onPath } from "./fixtures.ts";

/** Why an arm64 store cannot be made and run here, or undefined. */
export async function arm64StoreMissing(): Promise<string | undefined> {
  if (!onPath("qemu-aarch64-static")) {
    return "qemu-aarch64-static (qemu-user-static)";
  }
  return await arm64BusyboxMissing();
}

/**
 * Why bubblewrap and chroot cannot run an arm64 store here, or undefined:
 * they need a host binfmt_misc entry with F, or a kernel that gives a
 * private instance (`src/backends/binfmt.ts`), and the store.
 */
export async function arm64BinfmtMissing(): Promise<string | undefined> {
  const missing = await arm64StoreMissing();
  if (missing !== undefined) return missing;
  const entry = await readBinfmtEntry("aarch64", Deno.env.get("PATH") ?? "");
  if (hostEntryUsable(entry)) return undefined;
  return privateBinfmtRefusal(Deno.osRelease(), {
    arch: "aarch64",
    qemu: hostProgram("qemu-aarch64-static"),
  });
}

/** Makes the store (mode 0700, owned by the caller). */
export async function makeArm64BusyboxStore(): Promise<StagedStore> {
  const busybox = await arm64Busybox();
  const dir = await Deno.makeTempDir({ prefix: "polythene-test-arm64-" });
  await Deno.chmod(dir, 0o755);
  const store = `${dir}/store`;
  const uuid = await makeBusyboxRootfs(store, busybox.binary, busybox.applets);
  await writeMetadata(store, {
    schema: 1,
    uuid,
    reference: "busybox-static:arm64",
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
    created: new Date().toISOString(),
    size: 0,
  });
  return {
    store,
    uuid,
    rootfs: `${store}/${uuid}`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
