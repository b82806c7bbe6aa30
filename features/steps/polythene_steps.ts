/**
 * Steps that stage a store, run the polythene CLI and check what a user sees:
 * the exit code, stdout and stderr.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { type DataTable, Given, Then, When } from "@cucumber/cucumber";
import { runPolythene } from "../../tests/helpers/cli.ts";
import { makeBusyboxStore } from "../../tests/helpers/fixtures.ts";
import { fillPlaceholders, splitWords } from "./_command_line.ts";
import type { CliResult, PolytheneWorld } from "./world.ts";

Given<PolytheneWorld>("a store holding a busybox rootfs", async function () {
  const staged = await makeBusyboxStore();
  this.defer(() => staged.cleanup());
  this.staged = staged;
});

Given<PolytheneWorld>(
  "a PATH holding only these tools:",
  async function (table: DataTable) {
    const dir = await Deno.makeTempDir({ prefix: "polythene-path-" });
    this.defer(() => Deno.remove(dir, { recursive: true }));
    for (const tool of table.raw().flat()) {
      await Deno.symlink(await findHostTool(tool), `${dir}/${tool}`);
    }
    this.path = dir;
  },
);

When<PolytheneWorld>(/^I run `polythene (.*)`$/, async function (line: string) {
  const values = this.placeholders();
  const args = splitWords(line).map((word) => fillPlaceholders(word, values));
  this.result = await runPolythene(
    args,
    this.path === undefined ? {} : { path: this.path },
  );
});

Then<PolytheneWorld>("the exit code is {int}", function (code: number) {
  const result = this.lastResult();
  assert.equal(result.code, code, explain(`exit code ${code}`, result));
});

Then<PolytheneWorld>("stdout is the line {string}", function (line: string) {
  const result = this.lastResult();
  assert.equal(result.stdout, `${line}\n`, explain(`stdout "${line}"`, result));
});

Then<PolytheneWorld>("stdout is empty", function () {
  const result = this.lastResult();
  assert.equal(result.stdout, "", explain("no stdout", result));
});

Then<PolytheneWorld>("stderr contains {string}", function (text: string) {
  const result = this.lastResult();
  const wanted = fillPlaceholders(text, this.placeholders());
  assert.ok(
    result.stderr.includes(wanted),
    explain(`stderr containing "${wanted}"`, result),
  );
});

/** A failure message that shows everything the CLI printed. */
function explain(expected: string, result: CliResult): string {
  return [
    `Expected ${expected}; polythene exited with ${result.code}`,
    `--- stdout\n${result.stdout}`,
    `--- stderr\n${result.stderr}`,
  ].join("\n");
}

/**
 * The path of a program on this machine's PATH or in its sbin directories.
 *
 * @throws {Deno.errors.NotFound} When the machine lacks the program.
 */
async function findHostTool(name: string): Promise<string> {
  const dirs = [
    ...(Deno.env.get("PATH") ?? "").split(":"),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ];
  for (const dir of dirs.filter((dir) => dir !== "")) {
    const path = `${dir}/${name}`;
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.isFile && (info.mode ?? 0) & 0o111) return path;
  }
  throw new Deno.errors.NotFound(`This machine lacks "${name}" on its PATH`);
}
