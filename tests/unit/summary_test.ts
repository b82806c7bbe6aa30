import { strict as assert } from "node:assert";
import {
  formatSummary,
  parseCucumberSummary,
  parseDenoTestSummary,
  settle,
  stripAnsi,
  sumCounts,
} from "../../scripts/_summary.ts";

const ESC = "\x1b";

Deno.test("parseDenoTestSummary() reads a passing run", () => {
  const output = `running 1 test from ./tests/unit/a_test.ts
pass ... ok (0ms)

ok | 1 passed | 0 failed (6ms)

`;
  assert.deepEqual(parseDenoTestSummary(output), {
    passed: 1,
    failed: 0,
    skipped: 0,
  });
});

Deno.test("parseDenoTestSummary() counts tests, not steps, and ignored as skipped", () => {
  const output = [
    " FAILURES ",
    "",
    "./tests/e2e/b_test.ts (uncaught error)",
    `fail ${ESC}[0m${ESC}[38;5;245m=> ./tests/unit/a_test.ts:2:6${ESC}[0m`,
    "",
    `${ESC}[0m${ESC}[31mFAILED${ESC}[0m | 3 passed (2 steps) | 3 failed (1 step) | 1 ignored ${ESC}[0m${ESC}[38;5;245m(85ms)${ESC}[0m`,
    "",
    `${ESC}[0m${ESC}[1m${ESC}[31merror${ESC}[0m: Test failed`,
  ].join("\n");
  assert.deepEqual(parseDenoTestSummary(output), {
    passed: 3,
    failed: 3,
    skipped: 1,
  });
});

Deno.test("parseDenoTestSummary() ignores filtered-out tests", () => {
  const output = "ok | 1 passed | 0 failed | 4 filtered out (6ms)\n";
  assert.deepEqual(parseDenoTestSummary(output), {
    passed: 1,
    failed: 0,
    skipped: 0,
  });
});

Deno.test("parseDenoTestSummary() returns undefined without a summary", () => {
  const output = "Check file:///repo/tests/unit/a_test.ts\n" +
    "error: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n";
  assert.equal(parseDenoTestSummary(output), undefined);
  assert.equal(parseDenoTestSummary("ok | this is not a summary\n"), undefined);
});

Deno.test("parseCucumberSummary() reads every status", () => {
  const output = [
    "Failed scenarios:",
    "  1) two # features/a.feature:5",
    "",
    `5 scenarios (${ESC}[32m1 passed${ESC}[39m, ${ESC}[33m1 skipped${ESC}[39m, ${ESC}[36m1 pending${ESC}[39m, ${ESC}[34m1 undefined${ESC}[39m, ${ESC}[31m1 failed${ESC}[39m)`,
    "8 steps (4 passed, 1 skipped, 1 pending, 1 undefined, 1 failed)",
    "0m00.018s (executing steps: 0m00.003s)",
    "",
    "Undefined. Implement with the following snippet:",
  ].join("\n");
  assert.deepEqual(parseCucumberSummary(output), {
    passed: 1,
    failed: 3,
    skipped: 1,
  });
});

Deno.test("parseCucumberSummary() reads singular, ambiguous and empty runs", () => {
  assert.deepEqual(parseCucumberSummary("1 scenario (1 passed)\n"), {
    passed: 1,
    failed: 0,
    skipped: 0,
  });
  assert.deepEqual(
    parseCucumberSummary("2 scenarios (1 ambiguous, 1 passed)\n"),
    { passed: 1, failed: 1, skipped: 0 },
  );
  assert.deepEqual(parseCucumberSummary("0 scenarios\n0 steps\n"), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
});

Deno.test("parseCucumberSummary() returns undefined without a summary", () => {
  const output = "TypeError: npm package '@std/assert' does not exist.\n";
  assert.equal(parseCucumberSummary(output), undefined);
});

Deno.test("settle() counts a crash as one failure", () => {
  assert.deepEqual(settle(undefined, 1), { passed: 0, failed: 1, skipped: 0 });
  assert.deepEqual(settle({ passed: 2, failed: 0, skipped: 0 }, 1), {
    passed: 2,
    failed: 1,
    skipped: 0,
  });
});

Deno.test("settle() keeps the counts of a run that ended as it said", () => {
  const counts = { passed: 2, failed: 3, skipped: 1 };
  assert.deepEqual(settle(counts, 1), counts);
  assert.deepEqual(settle({ ...counts, failed: 0 }, 0), {
    ...counts,
    failed: 0,
  });
  assert.deepEqual(settle(undefined, 0), { passed: 0, failed: 0, skipped: 0 });
});

Deno.test("sumCounts() and formatSummary() make the closing line", () => {
  const total = sumCounts([
    { passed: 10, failed: 1, skipped: 2 },
    { passed: 4, failed: 0, skipped: 1 },
  ]);
  assert.deepEqual(total, { passed: 14, failed: 1, skipped: 3 });
  assert.equal(formatSummary(total), "14 passed, 1 failed");
  assert.equal(formatSummary(sumCounts([])), "0 passed, 0 failed");
});

Deno.test("stripAnsi() removes colour codes only", () => {
  assert.equal(stripAnsi(`${ESC}[0m${ESC}[32mok${ESC}[0m | 1`), "ok | 1");
});
