/**
 * Output formatting shared by the store commands: durations, human sizes,
 * aligned tables. Pure.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

const UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration such as `90s`, `15m`, `2h`, `7d`, `1w` or `1d12h` into
 * milliseconds. A bare number is seconds.
 *
 * @throws {UsageError} naming `option` and the expected form.
 */
export function parseDuration(
  text: string,
  option: string,
  command: string,
): number {
  const trimmed = text.trim();
  const bad = () =>
    new UsageError(
      `Invalid ${option} "${text}": expected a duration such as 30m, 12h, 7d or 1w2d`,
      command,
    );
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1_000;
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(trimmed)) throw bad();
  let total = 0;
  for (
    const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)
  ) {
    total += Number(amount) * UNITS[unit!]!;
  }
  return total;
}

/** Bytes in binary units: `512 B`, `1.5 KiB`, `20 MiB`, `3.1 GiB`. */
export function humanSize(bytes: number | null): string {
  if (bytes === null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A time as `YYYY-MM-DD HH:MM` (UTC); `-` when unknown or unparsable. */
export function shortTime(iso: string | null): string {
  if (iso === null) return "-";
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Date(time).toISOString().slice(0, 16).replace("T", " ");
}

/** `sha256:0123456789ab` (the first 12 hex digits); `-` when unknown. */
export function shortDigest(digest: string | null): string {
  if (digest === null) return "-";
  const at = digest.indexOf(":");
  return at === -1 ? digest.slice(0, 12) : digest.slice(0, at + 13);
}

/**
 * Left-aligned columns separated by two spaces; trailing spaces trimmed.
 * Columns whose header is in `right` are right-aligned.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly string[] = [],
): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) =>
      right.includes(headers[i]!)
        ? cell.padStart(widths[i]!)
        : cell.padEnd(widths[i]!)
    ).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
