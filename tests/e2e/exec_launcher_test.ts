/**
 * An image cannot steer the host-side tools of a backend: on chroot (real
 * root, on the host) the image's PATH must not pick the programs the setup
 * script runs, even when the rootfs has no `env` to keep the command's
 * environment off the launcher.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  onPath,
  testNeeding,
} from "../helpers/fixtures.ts";

const MISSING = Deno.uid() !== 0
  ? "root (chroot needs it)"
  : !onPath("unshare")
  ? "unshare"
  : undefined;

testNeeding(
  MISSING,
  "exec: an image's PATH never picks the host programs chroot's setup runs",
  async () => {
    const staged = await makeBusyboxStore();
    const evil = await Deno.makeTempDir({ prefix: "polythene-evil-" });
    try {
      for (const env of ["bin/env", "usr/bin/env"]) {
        await Deno.remove(`${staged.rootfs}/${env}`).catch(() => {});
      }
      const sentinel = `${evil}/ran`;
      for (const tool of ["mkdir", "ln", "mount", "setpriv", "sh", "unshare"]) {
        await Deno.writeTextFile(
          `${evil}/${tool}`,
          `#!/bin/sh\necho ${tool} >> ${sentinel}\nexit 1\n`,
        );
        await Deno.chmod(`${evil}/${tool}`, 0o755);
      }
      const result = await runPolythene([
        "exec",
        "--isolation",
        "chroot",
        "--verbose",
        "--store",
        staged.store,
        "--env",
        `PATH=${evil}:/bin`,
        staged.uuid,
        "--",
        "echo",
        "ran",
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "ran\n");
      assert.match(result.stderr, /using backend chroot/);
      await assert.rejects(
        Deno.stat(sentinel),
        Deno.errors.NotFound,
        "no host program came from the image's PATH",
      );
    } finally {
      await Deno.remove(evil, { recursive: true });
      await staged.cleanup();
    }
  },
);

for (const backend of ["proot", "chroot"] as const) {
  testNeeding(
    Deno.uid() !== 0 ? "root" : backendMissingAsRoot(backend),
    `exec: the loader variables of the command never reach ${backend}'s host-side launcher`,
    async () => {
      const staged = await makeBusyboxStore();
      const out = await Deno.makeTempDir({ prefix: "polythene-ld-" });
      try {
        // The host's dynamic loader writes LD_DEBUG_OUTPUT.PID files for
        // every dynamically linked launcher that sees these; the busybox
        // command is static and writes none.
        const result = await runPolythene([
          "exec",
          "--isolation",
          backend,
          "--isolation-floor",
          backend,
          "--store",
          staged.store,
          "--env",
          "LD_DEBUG=libs",
          "--env",
          `LD_DEBUG_OUTPUT=${out}/ld`,
          staged.uuid,
          "--",
          "sh",
          "-c",
          'echo "$LD_DEBUG"',
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, "libs\n", "the command still gets it");
        assert.deepEqual(
          [...Deno.readDirSync(out)].map((e) => e.name),
          [],
          "a host launcher loaded with the command's LD_* variables",
        );
      } finally {
        await Deno.remove(out, { recursive: true });
        await staged.cleanup();
      }
    },
  );
}
