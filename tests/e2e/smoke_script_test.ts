/**
 * `scripts/smoke_binary.sh`, which the release workflow runs against the
 * aarch64 binary, run here against the source with exactly the binary's
 * flags (a stand-in for the binary, named as such): it passes, and it fails
 * when the CLI under test is broken.
 */

import assert from "node:assert/strict";
import { cliArgv } from "../helpers/cli.ts";
import { runCommand } from "../helpers/command.ts";
import {
  backendMissingAsRoot as missingFor,
  testNeeding,
} from "../helpers/fixtures.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** A stand-in binary: a script that runs `argv` with its arguments. */
async function standIn(dir: string, argv: string[]): Promise<string> {
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const path = `${dir}/polythene-stand-in`;
  await Deno.writeTextFile(path, `#!/bin/sh\nexec ${quoted} "$@"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function smoke(bin: string) {
  const out = await runCommand([
    "bash",
    `${REPO}scripts/smoke_binary.sh`,
    bin,
  ]);
  return { code: out.code, output: out.stdout + out.stderr };
}

testNeeding(
  missingFor("chroot") ?? missingFor("bubblewrap") ?? missingFor("proot"),
  "the release smoke script passes on the CLI, and fails on a broken one",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "polythene-smoke-" });
    try {
      const good = await smoke(await standIn(dir, cliArgv(REPO, "")));
      assert.equal(good.code, 0, good.output);
      for (const backend of ["bubblewrap", "proot", "chroot"]) {
        assert.match(good.output, new RegExp(`smoke: exec on ${backend} ok`));
      }
      assert.match(good.output, /smoke: all passed/);
      const broken = await smoke(await standIn(dir, ["/bin/false"]));
      assert.notEqual(broken.code, 0, broken.output);
      assert.doesNotMatch(broken.output, /smoke: all passed/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
