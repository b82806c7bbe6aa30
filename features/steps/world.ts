/**
 * The per-scenario state of the Gherkin features, and the hook that cleans it
 * up. Cucumber makes one {@linkcode PolytheneWorld} per scenario.
 *
 * @module
 */

import { After, setWorldConstructor, World } from "@cucumber/cucumber";
import type { runPolythene } from "../../tests/helpers/cli.ts";
import type { makeBusyboxStore } from "../../tests/helpers/fixtures.ts";

/** A temporary store holding one busybox rootfs. */
export type StagedStore = Awaited<ReturnType<typeof makeBusyboxStore>>;

/** What one run of the CLI returned. */
export type CliResult = Awaited<ReturnType<typeof runPolythene>>;

/** State shared by the steps of one scenario. */
export class PolytheneWorld extends World {
  /** The store the scenario staged, if any. */
  staged?: StagedStore;
  /** More placeholders set by steps, such as `<workspace>`. */
  extraPlaceholders: Record<string, string> = {};
  /** The PATH the CLI runs with, when the scenario narrows it. */
  path?: string;
  /** The last run of the CLI. */
  result?: CliResult;
  readonly #cleanups: (() => Promise<void>)[] = [];

  /** Registers work for the end of the scenario; the last registered runs first. */
  defer(cleanup: () => Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  /**
   * Runs and forgets every registered cleanup, all of them even when some
   * fail.
   *
   * @throws {AggregateError} Carrying the errors of the cleanups that failed.
   */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, "Cannot clean up after the scenario");
    }
  }

  /** The values of the `<store>` and `<uuid>` placeholders in step text. */
  placeholders(): Record<string, string> {
    if (this.staged === undefined) return { ...this.extraPlaceholders };
    return {
      store: this.staged.store,
      uuid: this.staged.uuid,
      ...this.extraPlaceholders,
    };
  }

  /**
   * The last run of the CLI.
   *
   * @throws {Error} When no step has run the CLI yet.
   */
  lastResult(): CliResult {
    if (this.result === undefined) {
      throw new Error("No step has run polythene yet");
    }
    return this.result;
  }
}

setWorldConstructor(PolytheneWorld);

// Removing a store of a Debian entry (as another user, files of subordinate
// ids included) takes seconds on a busy machine: more than cucumber's
// default 5 s for a hook.
After({ timeout: 120_000 }, async function (this: PolytheneWorld) {
  await this.cleanup();
});
