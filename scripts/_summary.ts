/**
 * Pure functions behind `scripts/test.ts`: reading the closing summary of
 * `deno test` and of cucumber-js, and adding the counts up.
 *
 * @example
 * ```ts
 * const unit = settle(parseDenoTestSummary(output), 0);
 * console.log(formatSummary(unit)); // "12 passed, 0 failed"
 * ```
 *
 * @module
 */

/** How many tests (or scenarios) of one run passed, failed or were skipped. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts of a run that has not run anything yet. */
export const NO_COUNTS: Readonly<Counts> = { passed: 0, failed: 0, skipped: 0 };

// deno-lint-ignore no-control-regex -- matching terminal colour codes is the point
const ANSI_CODES = /\x1b\[[0-9;]*m/g;

/** Removes terminal colour codes, which `deno test` writes even into pipes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_CODES, "");
}

/**
 * Reads the counts from the last summary line of `deno test`'s default
 * reporter, such as `FAILED | 3 passed (2 steps) | 1 failed | 1 ignored (85ms)`.
 * Tests are counted, steps are not; ignored tests count as skipped.
 *
 * @param output Everything `deno test` wrote to stdout, colours allowed.
 * @returns The counts, or `undefined` when no summary line is present
 *   (the runner crashed, for example on a type error).
 */
export function parseDenoTestSummary(output: string): Counts | undefined {
  const line = lastLineMatching(output, /^(?:ok|FAILED) \| \d+ passed\b/);
  if (line === undefined) return undefined;
  const counts = { ...NO_COUNTS };
  for (const part of line.split(" | ").slice(1)) {
    const [, n, word] = /^(\d+) (passed|failed|ignored)\b/.exec(part) ?? [];
    if (n === undefined) continue;
    if (word === "passed") counts.passed = Number(n);
    if (word === "failed") counts.failed = Number(n);
    if (word === "ignored") counts.skipped = Number(n);
  }
  return counts;
}

/**
 * Reads the counts from cucumber-js's scenario summary line, such as
 * `4 scenarios (1 failed, 1 undefined, 2 passed)` or `0 scenarios`.
 * Scenarios are counted, steps are not. Failed, ambiguous, undefined, pending
 * and unknown scenarios all count as failed, since each fails the run.
 *
 * @param output Everything cucumber-js wrote to stdout, colours allowed.
 * @returns The counts, or `undefined` when no summary line is present.
 */
export function parseCucumberSummary(output: string): Counts | undefined {
  const line = lastLineMatching(output, /^\d+ scenarios?(?: \(.*\))?$/);
  if (line === undefined) return undefined;
  const counts = { ...NO_COUNTS };
  for (const [, n, status] of line.matchAll(/(\d+) ([a-z]+)(?=[,)])/g)) {
    if (status === "passed") counts.passed += Number(n);
    else if (status === "skipped") counts.skipped += Number(n);
    else counts.failed += Number(n);
  }
  return counts;
}

/**
 * Reconciles a runner's parsed counts with its exit code: a run without a
 * summary, or one that exited non-zero while reporting no failure, counts as
 * at least one failed test so that a crash can never pass.
 *
 * @param counts What the summary said, or `undefined` if there was none.
 * @param exitCode The runner's exit code.
 */
export function settle(counts: Counts | undefined, exitCode: number): Counts {
  const settled = { ...(counts ?? NO_COUNTS) };
  if (exitCode !== 0 && settled.failed === 0) settled.failed = 1;
  return settled;
}

/** Adds up the counts of several runs. */
export function sumCounts(runs: readonly Counts[]): Counts {
  return runs.reduce(
    (sum, run) => ({
      passed: sum.passed + run.passed,
      failed: sum.failed + run.failed,
      skipped: sum.skipped + run.skipped,
    }),
    { ...NO_COUNTS },
  );
}

/** The closing line CI reads: `N passed, N failed`. */
export function formatSummary(counts: Counts): string {
  return `${counts.passed} passed, ${counts.failed} failed`;
}

function lastLineMatching(output: string, pattern: RegExp): string | undefined {
  return stripAnsi(output)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .findLast((line) => pattern.test(line));
}
