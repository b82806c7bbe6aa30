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
import { makeBusyboxStore, onPath, testNeeding } from "../helpers/fixtures.ts";

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
