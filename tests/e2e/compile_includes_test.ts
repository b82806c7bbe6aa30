/**
 * The compile task embeds every command: the dispatcher loads each
 * command's module through a computed specifier, which `deno compile`
 * cannot follow, so `compileArgv` names them with `--include`. `denort`
 * cannot be downloaded here, so `DENORT_BIN` points at `deno` itself: the
 * output is no working binary, but `deno compile` prints the files it
 * embedded, which is what this checks (and the npm packages that
 * `--exclude-unused-npm` keeps for `pull`).
 */

import assert from "node:assert/strict";
import { compileArgv } from "../../src/permissions.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("the compile argv embeds every command's module and pull's npm packages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "polythene-compile-" });
  try {
    const argv = compileArgv("x86_64-unknown-linux-gnu")
      .filter((a) => a !== "--quiet");
    // This host's target (DENORT_BIN is this host's deno), into `dir`.
    argv.splice(argv.indexOf("--target"), 2);
    argv[argv.indexOf("--output") + 1] = `${dir}/polythene`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: argv.slice(1),
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /Embedded Files/, text);
    for (
      const part of [
        "modern-tar/",
        "uuid/",
        "pull.ts",
        "registry/",
        "exec/",
        "backends/",
      ]
    ) {
      assert.ok(text.includes(part), `${part} is not embedded:\n${text}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
