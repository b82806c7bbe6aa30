/**
 * Runs of a cross-backend suite: a backend, the store it runs in, and
 * optionally the only steps that run (for the run under emulation).
 *
 * @module
 */

import type { BackendName } from "../../src/backends/names.ts";
import type { StagedStore } from "./fixtures.ts";

/** One run of a suite. */
export interface Target {
  /** Shown in the test's name. */
  name: string;
  /** The backend asked for. */
  backend: BackendName;
  /** What this machine lacks for it (see `testNeeding`), or undefined. */
  missing: string | undefined;
  /** Makes the store it runs in. */
  stage: () => Promise<StagedStore>;
  /** The names of the only steps to run; all when undefined. */
  only?: readonly string[];
}

/** What a suite's body calls on its test context. */
export interface StepRunner extends Disposable {
  /** Runs the step, or skips it silently when it is not in `only`. */
  step(
    name: string,
    fn: (t: Deno.TestContext) => void | Promise<void>,
  ): Promise<boolean>;
}

/**
 * `t`, running only the steps named in `only` (all when undefined). Held
 * with `using`: when it is disposed, a name in `only` that no step had
 * (a step renamed) throws, so the subset cannot shrink silently.
 */
export function onlySteps(
  t: Deno.TestContext,
  only: readonly string[] | undefined,
): StepRunner {
  const seen = new Set<string>();
  return {
    step(name, fn) {
      seen.add(name);
      if (only !== undefined && !only.includes(name)) {
        return Promise.resolve(false);
      }
      return t.step(name, fn);
    },
    [Symbol.dispose]() {
      const missing = (only ?? []).filter((name) => !seen.has(name));
      if (missing.length > 0) {
        throw new Error(`No step named ${missing.join(", ")}`);
      }
    },
  };
}
