/**
 * Steps for the Debian scenario: a real registry on loopback serving the
 * cached `debootstrap --variant=minbase bookworm` image (built on first use,
 * as root, by `scripts/debian_image.ts`), a pull from it, and CLI runs given
 * more time than a step usually has, since apt reaches the Debian mirror.
 * The registry is stopped by the world's After hook.
 *
 * Without root, bwrap, or a way to build the image, the scenario is skipped
 * with the reason logged; under `CI=true` it fails instead.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { Given, Then, When } from "@cucumber/cucumber";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import { hostProgram, runPolythene } from "../../tests/helpers/cli.ts";
import { explain } from "../../tests/helpers/pull_checks.ts";
import {
  pushImage,
  type Registry,
  registryMissing,
  startRegistry,
} from "../../tests/helpers/registry.ts";
import { fillPlaceholders, splitWords } from "./_command_line.ts";
import type { PolytheneWorld } from "./world.ts";

/** debootstrap may take several minutes on a slow mirror. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** The longest `for up to N seconds` a step may ask for, plus slack. */
const RUN_TIMEOUT_MS = 15 * 60_000;

/** The registry each Debian scenario started. */
const registries = new WeakMap<PolytheneWorld, Registry>();

/** The Debian registry `world`'s scenario started, if any. */
export function debianRegistry(world: PolytheneWorld): Registry | undefined {
  return registries.get(world);
}

Given<PolytheneWorld>(
  "a registry serving the Debian bookworm minbase image as {string}",
  { timeout: BUILD_TIMEOUT_MS },
  async function (name: string) {
    const missing = [
      Deno.uid() === 0 ? undefined : "needs root (apt installs as real root)",
      hostProgram("bwrap") ? undefined : "needs bwrap",
      registryMissing(),
      await debianImageMissing(),
    ].filter((reason) => reason !== undefined);
    if (missing.length > 0) {
      const reason = missing.join("; ");
      if (Deno.env.get("CI") === "true") {
        throw new Error(`Cannot run under CI=true: ${reason}`);
      }
      this.log(`skipped: ${reason}`);
      return "skipped";
    }
    const image = await debianOciImage(await debianImage());
    const registry = await startRegistry();
    this.defer(() => registry.stop());
    registries.set(this, registry);
    const colon = name.lastIndexOf(":");
    await pushImage(
      registry,
      name.slice(0, colon),
      name.slice(colon + 1),
      image,
    );
  },
);

When<PolytheneWorld>(
  "I pull {string} from the Debian registry",
  { timeout: RUN_TIMEOUT_MS },
  async function (name: string) {
    const registry = registries.get(this);
    assert.ok(registry, "No Debian registry was started in this scenario");
    assert.ok(this.staged, "No store was made in this scenario");
    this.result = await runPolythene(
      ["pull", "--store", this.staged.store, `${registry.host}/${name}`],
      { killAfterMs: RUN_TIMEOUT_MS - 10_000 },
    );
  },
);

When<PolytheneWorld>(
  /^I run `polythene (.*)` for up to (\d+) seconds$/,
  { timeout: RUN_TIMEOUT_MS },
  async function (line: string, seconds: string) {
    const limitMs = Number(seconds) * 1000;
    assert.ok(
      limitMs > 0 && limitMs <= RUN_TIMEOUT_MS - 10_000,
      `A step may allow up to ${(RUN_TIMEOUT_MS - 10_000) / 1000} seconds`,
    );
    const values = this.placeholders();
    const args = splitWords(line).map((word) => fillPlaceholders(word, values));
    this.result = await runPolythene(args, { killAfterMs: limitMs });
  },
);

Then<PolytheneWorld>("stdout contains {string}", function (text: string) {
  const result = this.lastResult();
  assert.ok(
    result.stdout.includes(text),
    `Expected stdout containing "${text}"\n${explain(result)}`,
  );
});
