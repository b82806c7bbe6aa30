/**
 * Steps for a host workspace brought into the sandbox with `--bind`.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { Given, Then } from "@cucumber/cucumber";
import type { PolytheneWorld } from "./world.ts";

Given<PolytheneWorld>(
  "a workspace on the host whose tests write {string}",
  async function (name: string) {
    const dir = await Deno.makeTempDir({ prefix: "polythene-workspace-" });
    this.defer(() => Deno.remove(dir, { recursive: true }));
    await Deno.mkdir(`${dir}/tests`);
    await Deno.writeTextFile(
      `${dir}/tests/run.sh`,
      `#!/bin/sh\necho "tests passed in $(pwd)"\necho ok > ${name}\n`,
      { mode: 0o755 },
    );
    this.extraPlaceholders.workspace = dir;
  },
);

Then<PolytheneWorld>(
  "the workspace holds {string}",
  async function (name: string) {
    const dir = this.extraPlaceholders.workspace!;
    assert.equal(await Deno.readTextFile(`${dir}/${name}`), "ok\n");
  },
);
