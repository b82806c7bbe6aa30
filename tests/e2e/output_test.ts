/**
 * What polythene writes to a terminal and elsewhere: the progress line only
 * on a terminal and never with `--quiet`; `--verbose` error details in colour
 * only on a terminal and never under `NO_COLOR`. The terminal is a real pty
 * from util-linux `script`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { cliArgv, runPolythene } from "../helpers/cli.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import { busyboxEntries, tempStore } from "../helpers/pull_checks.ts";

const ESC = "\x1b";
const needsScript = onPath("script") ? undefined : "script (util-linux)";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `polythene ARGS` with stdout and stderr on a pty; returns the exit
 * code and what the terminal showed.
 */
async function onTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; shown: string }> {
  const command = [...cliArgv(), ...args].map(shellQuote).join(" ");
  const denoDir = Deno.env.get("DENO_DIR");
  const out = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...(denoDir ? { DENO_DIR: denoDir } : {}),
      ...env,
    },
    stdin: "null",
    stderr: "inherit",
  }).output();
  return { code: out.code, shown: new TextDecoder().decode(out.stdout) };
}

testNeeding(
  needsScript,
  "output: --verbose error details are coloured only on a terminal without NO_COLOR",
  async () => {
    await using files = await tempStore();
    const args = ["pull", "-v", "--store", files.store, "oci:/nonexistent:1"];

    const coloured = await onTerminal(args);
    assert.equal(coloured.code, 1, coloured.shown);
    assert.match(coloured.shown, /NotFound: .*oci-layout/);
    assert.ok(
      coloured.shown.includes(ESC),
      `colour on a terminal:\n${coloured.shown}`,
    );

    const plain = await onTerminal(args, { NO_COLOR: "1" });
    assert.equal(plain.code, 1, plain.shown);
    assert.match(plain.shown, /NotFound: .*oci-layout/);
    assert.equal(plain.shown.includes(ESC), false, plain.shown);

    const piped = await runPolythene(args);
    assert.equal(piped.code, 1, piped.stderr);
    assert.match(piped.stderr, /NotFound: .*oci-layout/);
    assert.equal(piped.stderr.includes(ESC), false, piped.stderr);
  },
);

testNeeding(
  needsScript,
  "output: pull's progress line only on a terminal, and never with --quiet",
  async () => {
    await using files = await tempStore();
    const image = await buildImage({
      layers: [{ compression: "gzip", entries: busyboxEntries(["sh"]) }],
    });
    await writeOciLayout(`${files.dir}/layout`, image, "1");
    const args = ["pull", "--store", files.store, `oci:${files.dir}/layout:1`];

    const shown = await onTerminal(args);
    assert.equal(shown.code, 0, shown.shown);
    assert.ok(shown.shown.includes(`\r${ESC}[2Kpulling `), shown.shown);
    assert.ok(shown.shown.includes("layer 1/1"), shown.shown);

    const quiet = await onTerminal([
      ...args.slice(0, 1),
      "-q",
      ...args.slice(1),
    ]);
    assert.equal(quiet.code, 0, quiet.shown);
    assert.equal(quiet.shown.includes(ESC), false, quiet.shown);
    assert.match(quiet.shown, /^[0-9a-f-]{36}\r?\n$/);

    const piped = await runPolythene(args);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, "");
  },
);
