/**
 * A root guest holds CAP_MKNOD (Docker's default set), and an image pulled
 * as root keeps its device nodes. Docker stops such nodes with the devices
 * cgroup; polythene has none, so the guest's tree must be `nodev`: a
 * device node in the rootfs (shipped by the image, or made by the guest)
 * and one the guest makes in `/dev` or in a writable `--bind` of a host
 * directory must fail to open, while the six
 * devices polythene binds into `/dev` work. Otherwise `mknod /disk b 8 0`
 * would give the guest the host's disk.
 *
 * The node used is harmless (`c 1 3`, the null device); opening it is the
 * whole proof, on the entry and on an `--ephemeral` run (an overlay where
 * the kernel allows one). As root the runs are in the jail (`jail.ts`).
 *
 * Needs root and each backend's programs; under `CI=true` a missing one fails
 * the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  testNeeding,
} from "../helpers/fixtures.ts";
import { jailPrefix } from "../helpers/jail.ts";

/** The guest's script: each line says whether a write to a node worked. */
const SCRIPT = [
  'try() { if (echo x > "$1") 2>/dev/null; then echo "$1 open"; else echo "$1 refused"; fi; }',
  "try /shipped",
  "mknod /made c 1 3 && try /made",
  "mknod /dev/made c 1 3 && try /dev/made",
  "mknod /data/made c 1 3 && try /data/made",
  "try /dev/null",
].join("\n");

const CASES = (["bubblewrap", "chroot"] as const).flatMap((backend) =>
  [[], ["--ephemeral"]].map((more) => ({ backend, more }))
);

for (const { backend, more } of CASES) {
  testNeeding(
    backendMissingAsRoot(backend),
    `exec${
      more.map((m) => ` ${m}`).join("")
    } as root on ${backend}: device nodes in the guest's tree cannot be opened`,
    async () => {
      const staged = await makeBusyboxStore();
      const dir = staged.store.slice(0, staged.store.lastIndexOf("/"));
      try {
        const made = await new Deno.Command("mknod", {
          args: [`${staged.rootfs}/shipped`, "c", "1", "3"],
        }).output();
        assert.ok(made.success, "mknod for the test");
        await Deno.mkdir(`${dir}/data`);
        const out = await runPolythene([
          "exec",
          "--store",
          staged.store,
          "--bind",
          `${dir}/data:/data`,
          "--isolation",
          backend,
          ...more,
          staged.uuid,
          "--",
          "/bin/sh",
          "-c",
          SCRIPT,
        ], { prefix: jailPrefix([dir]) });
        assert.equal(out.code, 0, out.stderr);
        assert.deepEqual(out.stdout.trim().split("\n"), [
          "/shipped refused",
          "/made refused",
          "/dev/made refused",
          "/data/made refused",
          "/dev/null open",
        ]);
      } finally {
        await staged.cleanup();
      }
    },
  );
}
