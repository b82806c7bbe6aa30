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
  kernelAtLeast,
  PRIVATE_BINFMT_KERNEL,
} from "../../src/backends/binfmt.ts";
import { readBinfmtEntry } from "../../src/backends/emulation_host.ts";
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
 * Whether this host's kernel lets bubblewrap and chroot run arm64 images:
 * a host binfmt_misc entry with F, or a kernel of 6.7 or later, where exec
 * makes a private instance (`src/backends/binfmt.ts`). A host shape, not a
 * missing tool: where it is false, `exec_arch_test.ts` shows the refusal,
 * and suites that need it leave their bubblewrap and chroot runs out.
 */
export async function arm64KernelRuns(): Promise<boolean> {
  const entry = await readBinfmtEntry("aarch64", Deno.env.get("PATH") ?? "");
  return hostEntryUsable(entry) ||
    kernelAtLeast(Deno.osRelease(), PRIVATE_BINFMT_KERNEL);
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
