/**
 * Steps for running polythene as the rig's unprivileged user
 * `polythene-test`: a store that user owns, a pull from the Debian registry
 * (debian_steps.ts) and CLI runs, all as that user, from a copy of the
 * source it can read. The store is removed as root when the scenario ends.
 *
 * Without the user or setpriv the scenario is skipped with the reason
 * logged; under `CI=true` it fails instead.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { Given, When } from "@cucumber/cucumber";
import {
  type CliOptions,
  hostProgram,
  runPolythene,
  sourceReadableBy,
} from "../../tests/helpers/cli.ts";
import { testUser } from "../../tests/helpers/fixtures.ts";
import { tempStore } from "../../tests/helpers/pull_checks.ts";
import { fillPlaceholders, splitWords } from "./_command_line.ts";
import { debianRegistry } from "./debian_steps.ts";
import type { PolytheneWorld } from "./world.ts";

/** apt reaches the Debian mirror: a step may take minutes. */
const RUN_TIMEOUT_MS = 15 * 60_000;

/** How each scenario runs the CLI as the user. */
const asUser = new WeakMap<PolytheneWorld, CliOptions>();

function userOptions(world: PolytheneWorld): CliOptions {
  const options = asUser.get(world);
  assert.ok(options, "No store owned by the unprivileged user was made");
  return options;
}

Given<PolytheneWorld>(
  "an empty store owned by the unprivileged user",
  async function () {
    const user = testUser();
    const missing = [
      user ? undefined : 'needs the user "polythene-test" (scripts/setup.sh)',
      hostProgram("setpriv") ? undefined : "needs setpriv",
    ].filter((reason) => reason !== undefined);
    if (user === undefined || missing.length > 0) {
      const reason = missing.join("; ");
      if (Deno.env.get("CI") === "true") {
        throw new Error(`Cannot run under CI=true: ${reason}`);
      }
      this.log(`skipped: ${reason}`);
      return "skipped";
    }
    const source = await sourceReadableBy(user);
    this.defer(() => source.cleanup());
    const files = await tempStore(user);
    this.defer(() => files.cleanup());
    this.staged = {
      store: files.store,
      uuid: "",
      rootfs: "",
      cleanup: () => files.cleanup(),
    };
    asUser.set(this, { user, source: source.dir });
  },
);

When<PolytheneWorld>(
  "the unprivileged user pulls {string} from the Debian registry",
  { timeout: RUN_TIMEOUT_MS },
  async function (name: string) {
    const registry = debianRegistry(this);
    assert.ok(registry, "No Debian registry was started in this scenario");
    assert.ok(this.staged, "No store was made in this scenario");
    this.result = await runPolythene(
      ["pull", "--store", this.staged.store, `${registry.host}/${name}`],
      { ...userOptions(this), killAfterMs: RUN_TIMEOUT_MS - 10_000 },
    );
  },
);

When<PolytheneWorld>(
  /^the unprivileged user runs `polythene (.*)` for up to (\d+) seconds$/,
  { timeout: RUN_TIMEOUT_MS },
  async function (line: string, seconds: string) {
    const limitMs = Number(seconds) * 1000;
    assert.ok(limitMs > 0 && limitMs <= RUN_TIMEOUT_MS - 10_000);
    const values = this.placeholders();
    const args = splitWords(line).map((word) => fillPlaceholders(word, values));
    this.result = await runPolythene(args, {
      ...userOptions(this),
      killAfterMs: limitMs,
    });
  },
);
