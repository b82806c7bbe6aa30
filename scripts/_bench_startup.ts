/**
 * The exec start-up part of `deno task bench --only exec` (issue 11): every
 * backend's `polythene exec -- /bin/true` against an empty `deno run` plus
 * each raw backend that ran, so the report states `exec` against raw
 * bubblewrap and against raw proot side by side. Pure: it reads the samples
 * `bench.ts` took (one per candidate per round, rounds interleaved).
 *
 * @module
 */

import {
  formatRatio,
  markdownTable,
  median,
  roundRatios,
} from "./_bench_stats.ts";

/** One backend's candidates, as `bench.ts` names them. */
export interface StartupBench {
  /** The backend's name. */
  name: string;
  /** Candidate id of its raw invocation. */
  raw: string;
  /** Candidate id of `polythene exec` on it. */
  polythene: string;
}

/**
 * A table: one row per backend's `polythene exec`, one column per raw
 * backend, each cell the median over rounds of
 * `polythene exec / (empty deno run + raw backend)`. Pure.
 *
 * @param samples Milliseconds by candidate id, index = round.
 * @param empty The empty `deno run`'s candidate id.
 */
export function rawComparison(
  benches: readonly StartupBench[],
  samples: ReadonlyMap<string, readonly number[]>,
  empty: string,
  goal: number,
): string {
  const of = (id: string) => samples.get(id) ?? [];
  return markdownTable(
    [
      "polythene exec on",
      ...benches.map((b) => `/ (empty deno + raw ${b.name})`),
      `goal <= ${goal}`,
    ],
    benches.map((row) => {
      const ratios = benches.map((col) =>
        median(roundRatios(of(row.polythene), [of(empty), of(col.raw)]))
      );
      const own = ratios[benches.indexOf(row)]!;
      return [
        row.name,
        ...ratios.map(formatRatio),
        own <= goal ? "met (own backend)" : "NOT met (own backend)",
      ];
    }),
    ["left", ...benches.map(() => "right" as const), "left"],
  );
}
