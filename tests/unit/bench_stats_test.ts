import { strict as assert } from "node:assert";
import {
  formatMs,
  formatRatio,
  markdownTable,
  median,
  parseCount,
  percentile,
  readProbeLog,
  rotate,
  roundDifferences,
  roundRatios,
  summarize,
  withoutStatusFdFlag,
} from "../../scripts/_bench_stats.ts";

Deno.test("median() takes the middle value of an odd count, in any order", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([7]), 7);
});

Deno.test("median() averages the two middle values of an even count", () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

Deno.test("median() does not reorder its input", () => {
  const samples = [3, 1, 2];
  median(samples);
  assert.deepEqual(samples, [3, 1, 2]);
});

Deno.test("percentile() interpolates between the closest ranks", () => {
  const samples = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  assert.equal(percentile(samples, 0), 10);
  assert.equal(percentile(samples, 100), 100);
  // rank 0.9 * 9 = 8.1: between 90 and 100.
  assert.ok(Math.abs(percentile(samples, 90) - 91) < 1e-9);
});

Deno.test("percentile() refuses no samples and p out of range", () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], -1), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
  assert.throws(() => percentile([1], NaN), RangeError);
});

Deno.test("summarize() gives n, median and p90", () => {
  const s = summarize([12, 10, 11, 30]);
  assert.equal(s.n, 4);
  assert.equal(s.median, 11.5);
  assert.ok(Math.abs(s.p90 - 24.6) < 1e-9);
});

Deno.test("roundRatios() divides each round by the sum of its parts", () => {
  assert.deepEqual(roundRatios([30, 26], [[10, 10], [10, 3]]), [1.5, 2]);
});

Deno.test("roundRatios() refuses series of different lengths", () => {
  assert.throws(() => roundRatios([1, 2], [[1]]), RangeError);
});

Deno.test("roundDifferences() subtracts the sum of the parts per round", () => {
  assert.deepEqual(roundDifferences([30, 26], [[10, 10], [10, 3]]), [10, 13]);
  assert.throws(() => roundDifferences([1], [[1, 2]]), RangeError);
});

Deno.test("formatMs() and formatRatio() round to one and two decimals", () => {
  assert.equal(formatMs(12.345), "12.3");
  assert.equal(formatMs(3), "3.0");
  assert.equal(formatRatio(1.2749), "1.27");
  assert.equal(formatRatio(1), "1.00");
});

Deno.test("markdownTable() pads columns and aligns them", () => {
  const table = markdownTable(
    ["what", "ms"],
    [["deno run", "41.2"], ["bwrap", "3.0"]],
    ["left", "right"],
  );
  assert.equal(
    table,
    [
      "| what     |   ms |",
      "| -------- | ---: |",
      "| deno run | 41.2 |",
      "| bwrap    |  3.0 |",
    ].join("\n"),
  );
});

Deno.test("markdownTable() escapes pipes and refuses ragged rows", () => {
  assert.equal(
    markdownTable(["a"], [["x|y"]]),
    "| a    |\n| ---- |\n| x\\|y |",
  );
  assert.throws(() => markdownTable(["a", "b"], [["1"]]), RangeError);
});

Deno.test("rotate() puts every item in every position over a cycle", () => {
  assert.deepEqual(rotate(["a", "b", "c"], 0), ["a", "b", "c"]);
  assert.deepEqual(rotate(["a", "b", "c"], 1), ["b", "c", "a"]);
  assert.deepEqual(rotate(["a", "b", "c"], 5), ["c", "a", "b"]);
  assert.deepEqual(rotate(["a", "b", "c"], -1), ["c", "a", "b"]);
  assert.deepEqual(rotate([], 3), []);
});

Deno.test("readProbeLog() tells a cached probe from a probe process", () => {
  const warm = [
    "2026-01-01T00:00:00.000Z polythene: host: uid=0 real-root=true kernel=6",
    "2026-01-01T00:00:00.001Z polythene: proot: probe cached from 2026-01-01",
    "2026-01-01T00:00:00.002Z polythene: using backend proot",
  ].join("\n");
  assert.deepEqual(readProbeLog(warm), { cached: true, probed: false });
  const cold =
    "2026-01-01T00:00:00.001Z polythene: proot: probing: /usr/bin/proot -r / -0 true\n";
  assert.deepEqual(readProbeLog(cold), { cached: false, probed: true });
  assert.deepEqual(readProbeLog(""), { cached: false, probed: false });
});

Deno.test("withoutStatusFdFlag() drops the flag and its value only", () => {
  assert.deepEqual(
    withoutStatusFdFlag([
      "/usr/bin/bwrap",
      "--clearenv",
      "--json-status-fd",
      "3",
      "--",
      "/bin/true",
    ]),
    ["/usr/bin/bwrap", "--clearenv", "--", "/bin/true"],
  );
});

Deno.test("withoutStatusFdFlag() leaves the command after -- alone", () => {
  const argv = ["bwrap", "--", "prog", "--json-status-fd", "3"];
  assert.deepEqual(withoutStatusFdFlag(argv), argv);
});

Deno.test("withoutStatusFdFlag() finds bwrap's flags behind a launcher", () => {
  assert.deepEqual(
    withoutStatusFdFlag([
      "/usr/bin/unshare",
      "--mount",
      "--",
      "/bin/sh",
      "-c",
      "script",
      "/usr/bin/bwrap",
      "--args",
      "4",
      "--json-status-fd",
      "3",
      "--",
      "/bin/true",
    ]),
    [
      "/usr/bin/unshare",
      "--mount",
      "--",
      "/bin/sh",
      "-c",
      "script",
      "/usr/bin/bwrap",
      "--",
      "/bin/true",
    ],
  );
});

Deno.test("parseCount() accepts whole numbers from min up", () => {
  assert.equal(parseCount("30", "--runs", 1), 30);
  assert.equal(parseCount("0", "--warmup", 0), 0);
  assert.throws(() => parseCount("0", "--runs", 1), RangeError);
  assert.throws(() => parseCount("1.5", "--runs", 1), RangeError);
  assert.throws(() => parseCount("-2", "--runs", 1), RangeError);
  assert.throws(() => parseCount("", "--runs", 1), RangeError);
});
