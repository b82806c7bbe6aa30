/**
 * Pure helpers behind `scripts/bench.ts`: order statistics, per-round ratios,
 * number formatting, the markdown table, the interleaving order, and reading
 * polythene's `--verbose` lines about the probe cache.
 *
 * @example
 * ```ts
 * const s = summarize([12, 10, 11, 30]);
 * console.log(formatMs(s.median), formatMs(s.p90)); // "11.5 24.6"
 * console.log(markdownTable(["what", "ms"], [["x", "1.0"]], ["left", "right"]));
 * ```
 *
 * @module
 */

/** Median and 90th percentile of one candidate's timings. */
export interface Summary {
  /** How many samples. */
  n: number;
  /** The 50th percentile. */
  median: number;
  /** The 90th percentile. */
  p90: number;
}

/**
 * The `p`-th percentile of `samples`, interpolating linearly between the two
 * closest ranks (the method of numpy's default and R's type 7), so that the
 * 50th percentile is the usual median.
 *
 * @param samples At least one finite number, in any order.
 * @param p From 0 to 100.
 * @throws {RangeError} when `samples` is empty or `p` is out of range.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) {
    throw new RangeError("Cannot take a percentile of no samples");
  }
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`Percentile must be from 0 to 100: got ${p}`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (rank - low);
}

/** The median of `samples`; see {@linkcode percentile}. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** The median and p90 of `samples`; see {@linkcode percentile}. */
export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: median(samples),
    p90: percentile(samples, 90),
  };
}

/**
 * One ratio per round: `numerator[i] / (parts[0][i] + parts[1][i] + ...)`.
 * Taking the ratio inside each round, before the median, cancels drift
 * that affects the whole round alike.
 *
 * @throws {RangeError} when the series differ in length.
 */
export function roundRatios(
  numerator: readonly number[],
  parts: readonly (readonly number[])[],
): number[] {
  for (const part of parts) {
    if (part.length !== numerator.length) {
      throw new RangeError(
        `Series differ in length: ${numerator.length} and ${part.length}`,
      );
    }
  }
  return numerator.map((value, i) =>
    value / parts.reduce((sum, part) => sum + part[i]!, 0)
  );
}

/**
 * One difference per round: `minuend[i] - (parts[0][i] + parts[1][i] + ...)`.
 *
 * @throws {RangeError} when the series differ in length.
 */
export function roundDifferences(
  minuend: readonly number[],
  parts: readonly (readonly number[])[],
): number[] {
  for (const part of parts) {
    if (part.length !== minuend.length) {
      throw new RangeError(
        `Series differ in length: ${minuend.length} and ${part.length}`,
      );
    }
  }
  return minuend.map((value, i) =>
    value - parts.reduce((sum, part) => sum + part[i]!, 0)
  );
}

/** Milliseconds with one decimal, such as `"12.3"`. */
export function formatMs(ms: number): string {
  return ms.toFixed(1);
}

/** A ratio with two decimals, such as `"1.27"`. */
export function formatRatio(ratio: number): string {
  return ratio.toFixed(2);
}

/** How a column is aligned in a markdown table. */
export type Align = "left" | "right";

/**
 * A markdown table, columns padded to their widest cell so it also reads
 * well as plain text. A `|` inside a cell is escaped.
 *
 * @param header The column titles.
 * @param rows Cells, one array per row, as many as `header`.
 * @param align Per column; missing entries are `"left"`.
 * @throws {RangeError} when a row has a different number of cells.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new RangeError(
        `Row has ${row.length} cells, expected ${header.length}: "${
          row.join(" | ")
        }"`,
      );
    }
  }
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const cells = [header, ...rows].map((row) => row.map(escape));
  const widths = header.map((_, c) =>
    Math.max(3, ...cells.map((row) => row[c]!.length))
  );
  const line = (row: readonly string[]) =>
    `| ${
      row.map((cell, c) =>
        align[c] === "right"
          ? cell.padStart(widths[c]!)
          : cell.padEnd(widths[c]!)
      ).join(" | ")
    } |`;
  const rule = `| ${
    widths.map((w, c) =>
      align[c] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)
    ).join(" | ")
  } |`;
  const [head, ...body] = cells;
  return [line(head!), rule, ...body.map(line)].join("\n");
}

/**
 * `items` rotated left by `by` places, so that over `items.length`
 * consecutive rounds each item runs once in every position.
 */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** What polythene's `--verbose` stderr says about probing. */
export interface ProbeLog {
  /** A `probe cached` line is present. */
  cached: boolean;
  /** A `probing:` line is present: a probe process was started. */
  probed: boolean;
}

/** Reads the probe lines of polythene's `--verbose` stderr. */
export function readProbeLog(stderr: string): ProbeLog {
  const lines = stderr.split("\n");
  return {
    cached: lines.some((l) => / probe cached\b/.test(l)),
    probed: lines.some((l) => / probing: /.test(l)),
  };
}

/**
 * A backend argv without its `--json-status-fd N` and `--args N` pairs, to time bwrap
 * without the `sh` wrapper that opens fd N. Other arguments are kept.
 */
export function withoutStatusFdFlag(argv: readonly string[]): string[] {
  // bwrap's own flags: after whatever starts it (as root, `unshare ... sh`).
  const start = Math.max(0, argv.findIndex((a) => a.endsWith("/bwrap")));
  const out: string[] = argv.slice(0, start);
  for (let i = start; i < argv.length; i++) {
    if (argv[i] === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (argv[i] === "--json-status-fd" || argv[i] === "--args") {
      i++;
      continue;
    }
    out.push(argv[i]!);
  }
  return out;
}

/**
 * Reads a count of runs from the command line.
 *
 * @throws {RangeError} unless `text` is a whole number of at least `min`.
 */
export function parseCount(text: string, name: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Invalid ${name} "${text}": expected a whole number of at least ${min}`,
    );
  }
  return value;
}
