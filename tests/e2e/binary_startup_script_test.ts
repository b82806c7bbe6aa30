/**
 * `scripts/binary_startup.sh`, which prints the release binary's size and
 * start-up in the release log, run here against a stand-in for the binary
 * (a script that runs the source with exactly the binary's flags): it prints
 * the figures, and fails when the CLI under test fails.
 */

import assert from "node:assert/strict";
import { cliArgv } from "../helpers/cli.ts";
import { runCommand } from "../helpers/command.ts";
import {
  backendMissingAsRoot as missingFor,
  testNeeding,
} from "../helpers/fixtures.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** A stand-in binary: a shell script, `prelude` then `argv` with its args. */
async function standIn(
  dir: string,
  name: string,
  argv: string[],
  prelude = "",
): Promise<string> {
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${prelude}exec ${quoted} "$@"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function startup(bin: string) {
  const out = await runCommand([
    "bash",
    `${REPO}scripts/binary_startup.sh`,
    bin,
    "3",
  ]);
  return { code: out.code, output: out.stdout + out.stderr };
}

testNeeding(
  missingFor("bubblewrap"),
  "the release start-up script prints size and timings, and fails with the CLI",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "polythene-startup-" });
    try {
      const bin = await standIn(dir, "polythene-x", cliArgv(REPO, ""));
      const good = await startup(bin);
      assert.equal(good.code, 0, good.output);
      const size = (await Deno.stat(bin)).size;
      assert.match(
        good.output,
        new RegExp(`^binary: polythene-x: ${size} bytes \\(0 MiB\\)$`, "m"),
      );
      const figures = / median \d+ ms, fastest \d+ ms over 3 runs$/.source;
      assert.match(
        good.output,
        new RegExp(`^start-up: --version:${figures}`, "m"),
      );
      assert.match(
        good.output,
        new RegExp(
          `^start-up: exec -- /bin/true \\(bubblewrap\\):${figures}`,
          "m",
        ),
      );
      // --version works but exec does not: the script fails, naming it.
      const broken = await startup(
        await standIn(
          dir,
          "polythene-broken",
          ["/bin/false"],
          '[ "$1" = --version ] && exit 0\n',
        ),
      );
      assert.notEqual(broken.code, 0, broken.output);
      assert.doesNotMatch(broken.output, /start-up: exec/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
