/**
 * Steps for the binary recipe: a local release (the CLI under test behind
 * the binary's name, and `SHA256SUMS` written by the compile task's code), a
 * stand-in `curl` that serves it, and the recipe's shell block read from
 * `docs/users-guide.md` and run as written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Given, Then, When } from "@cucumber/cucumber";
import { writeChecksums } from "../../scripts/compile.ts";
import { COMPILE_TARGETS } from "../../src/permissions.ts";
import { cliArgv } from "../../tests/helpers/cli.ts";
import { entries, explain } from "../../tests/helpers/pull_checks.ts";
import type { PolytheneWorld } from "./world.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const GUIDE = `${REPO}docs/users-guide.md`;
const HOST_TARGET = `${Deno.build.arch}-unknown-linux-gnu`;

/** Quotes `word` for sh. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The first ```sh block under the heading `## title` in `markdown`.
 *
 * @throws {RangeError} When there is no such heading or block.
 */
export function recipeBlock(markdown: string, title: string): string {
  const section = markdown.split(/^## /m)
    .find((part) => part.startsWith(`${title}\n`));
  const block = section?.match(/^```sh\n([\s\S]*?)^```$/m)?.[1];
  if (block === undefined) {
    throw new RangeError(`No sh block under "## ${title}" in ${GUIDE}`);
  }
  return block;
}

Given<PolytheneWorld>(
  "a local release whose binary starts the CLI under test",
  async function () {
    const { dir } = this.placeholders();
    const release = `${dir}/release`;
    const bin = `${dir}/bin`;
    await Deno.mkdir(release);
    await Deno.mkdir(bin);
    await Deno.mkdir(`${dir}/work`);
    for (const target of COMPILE_TARGETS) {
      const file = `${release}/polythene-${target}`;
      await Deno.writeTextFile(
        file,
        target === HOST_TARGET
          ? `#!/bin/sh\nexec ${cliArgv().map(shellQuote).join(" ")} "$@"\n`
          : `not a binary for this machine: ${target}\n`,
        { mode: 0o644 },
      );
    }
    await writeChecksums(
      release,
      COMPILE_TARGETS.map((target) => `polythene-${target}`),
    );
    // `curl -fsSLO URL` for a release asset: copy it from the local release.
    await Deno.writeTextFile(
      `${bin}/curl`,
      `#!/bin/sh
set -eu
case " $* " in *" -fsSLO "*) ;; *) echo "curl stand-in: want -fsSLO: $*" >&2; exit 2 ;; esac
for url; do :; done
echo "$url" >> ${shellQuote(`${dir}/curl.log`)}
case $url in
https://github.com/*/*/releases/latest/download/*) ;;
*) echo "curl stand-in: not a release asset: $url" >&2; exit 22 ;;
esac
cp ${shellQuote(release)}/"\${url##*/}" "./\${url##*/}"
`,
      { mode: 0o755 },
    );
    this.extraPlaceholders = { ...this.extraPlaceholders, release, bin };
  },
);

Given<PolytheneWorld>(
  "the release's binary changed after SHA256SUMS was written",
  async function () {
    const { release } = this.placeholders();
    await Deno.writeTextFile(
      `${release}/polythene-${HOST_TARGET}`,
      "# changed\n",
      { append: true },
    );
  },
);

When<PolytheneWorld>(
  "the {string} recipe runs",
  async function (title: string) {
    const { dir, bin, store, image } = this.placeholders();
    const block = recipeBlock(await Deno.readTextFile(GUIDE), title);
    const imageLine = /^IMAGE=.*$/m;
    assert.match(block, imageLine, "the recipe names its image as IMAGE=...");
    const script = block.replace(imageLine, `IMAGE=${shellQuote(image!)}`);
    const denoDir = Deno.env.get("DENO_DIR");
    const out = await new Deno.Command("sh", {
      args: ["-c", script],
      cwd: `${dir}/work`,
      clearEnv: true,
      env: {
        PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        HOME: Deno.env.get("HOME") ?? "/root",
        POLYTHENE_STORE: store!,
        ...(denoDir ? { DENO_DIR: denoDir } : {}),
      },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    this.result = {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  },
);

Then<PolytheneWorld>("nothing was pulled", async function () {
  const { store } = this.placeholders();
  assert.deepEqual(await entries(store!), [], explain(this.lastResult()));
});

Then<PolytheneWorld>(
  "it downloaded this machine's binary, then SHA256SUMS, from one release",
  async function () {
    const { dir } = this.placeholders();
    const urls = (await Deno.readTextFile(`${dir}/curl.log`)).trim()
      .split("\n");
    const base =
      /^https:\/\/github\.com\/[^/]+\/polythene\/releases\/latest\/download\//;
    assert.equal(urls.length, 2, urls.join("\n"));
    for (const url of urls) assert.match(url, base, url);
    assert.deepEqual(
      urls.map((url) => url.replace(base, "")),
      [`polythene-${HOST_TARGET}`, "SHA256SUMS"],
    );
  },
);
