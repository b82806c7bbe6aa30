/**
 * A package manager under emulation: the arm64 Debian bookworm minbase
 * (`scripts/debian_image.ts --arch arm64`: debootstrap's first stage, the
 * second under `proot -q qemu-aarch64-static`, cached in
 * /var/cache/polythene-test) and the amd64 one, pushed to the loopback
 * registry as one multi-platform index; `pull --platform linux/arm64`, then
 * `apt-get update`, `apt-get install -y hello` and `hello` as root over
 * proot with qemu-user, and over bubblewrap with qemu registered in the
 * kernel's binfmt_misc (the host's entry, or the private instance exec
 * makes, whose user namespace maps the whole id range: apt drops to
 * `_apt`). Every instruction is emulated, so these are the slowest tests of
 * the suite's foreign-architecture part.
 *
 * Needs root, proot, setpriv, qemu-aarch64-static, the registry and both
 * Debian images (or what builds them), and for bubblewrap, bwrap; under
 * `CI=true` a missing one fails. The bubblewrap case is left out where the
 * kernel has no binfmt_misc entry and is older than 6.7 (a host shape,
 * whose refusal `exec_arch_test.ts` shows).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import { hostProgram, runPolythene } from "../helpers/cli.ts";
import { arm64KernelRuns } from "../helpers/emulated_store.ts";
import type { BackendName } from "../../src/backends/names.ts";
import { show } from "../helpers/exec_shapes.ts";
import { missingFor, onHostPath, testNeeding } from "../helpers/fixtures.ts";
import { buildIndex } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

/** apt reaches a real mirror, and qemu translates every instruction. */
const APT_MS = 900_000;

const MISSING = missingFor({
  root: true,
  programs: ["proot", "setpriv", "qemu-aarch64-static"],
  found: onHostPath,
  also: [
    registryMissing(),
    await debianImageMissing(),
    await debianImageMissing(undefined, "arm64"),
  ],
});

for (
  const [backend, missing] of [
    ["proot", MISSING],
    // Where the kernel can (exec_arch_test.ts shows the refusal elsewhere).
    ...(await arm64KernelRuns()
      ? [["bubblewrap", MISSING ?? bubblewrapMissing()]]
      : []),
  ] as [BackendName, string | undefined][]
) {
  testNeeding(
    missing,
    `apt-get installs hello in the arm64 Debian image under qemu-user (${backend})`,
    async () => {
      await using registry = await startRegistry();
      const index = await buildIndex([
        await debianOciImage(await debianImage()),
        await debianOciImage(await debianImage({ arch: "arm64" })),
      ]);
      await pushImage(registry, "test/debian", "bookworm", index);
      const store = await Deno.makeTempDir({ prefix: "polythene-arch-apt-" });
      try {
        const pull = await runPolythene([
          "pull",
          "--quiet",
          "--store",
          store,
          "--platform",
          "linux/arm64",
          `${registry.host}/test/debian:bookworm`,
        ]);
        assert.equal(pull.code, 0, show(pull));
        const uuid = pull.stdout.trim();
        const exec = (argv: string[]) =>
          runPolythene([
            "exec",
            "--store",
            store,
            "--isolation",
            backend,
            "--isolation-floor",
            backend,
            uuid,
            "--",
            ...argv,
          ], { killAfterMs: APT_MS });
        const arch = await exec(["dpkg", "--print-architecture"]);
        assert.equal(arch.stdout, "arm64\n", show(arch));
        const update = await exec(["apt-get", "update"]);
        assert.equal(update.code, 0, show(update));
        const install = await exec(["apt-get", "install", "-y", "hello"]);
        assert.equal(install.code, 0, show(install));
        assert.match(install.stdout, /Setting up hello:arm64|Setting up hello/);
        const hello = await exec(["hello"]);
        assert.equal(hello.code, 0, show(hello));
        assert.equal(hello.stdout, "Hello, world!\n", show(hello));
        // The binary apt installed is arm64's, so qemu ran it.
        const elf = await Deno.readFile(`${store}/${uuid}/usr/bin/hello`);
        assert.equal(elf[18], 0xb7, "e_machine of /usr/bin/hello: EM_AARCH64");
      } finally {
        await Deno.remove(store, { recursive: true });
      }
    },
  );
}

function bubblewrapMissing(): string | undefined {
  return hostProgram("bwrap") === undefined ? "needs bwrap" : undefined;
}
