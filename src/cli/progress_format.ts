/**
 * The text of progress displays: the bar line on a terminal and the lines
 * of a log. Pure; `progress.ts` decides when to print them.
 *
 * @module
 */

import { humanSize } from "./format.ts";

/** One item's counters, as the display holds them. */
export interface ItemState {
  /** `layer 1/3 sha256:0123456789ab`. */
  label: string;
  /** Size in bytes, when known. */
  total?: number;
  /** Bytes transferred so far. */
  bytes: number;
  /** Entries written so far. */
  entries: number;
  /** Bytes of file content written so far. */
  written: number;
  /** When it started (ms, the display's clock). */
  startedAt: number;
}

/** `0.4s`, `12s`, `3m05s`. Pure. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
}

/** `12 MiB/s`; `-` before any time has passed. Pure. */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return "- B/s";
  return `${humanSize(Math.round(bytes * 1000 / ms))}/s`;
}

function counter(item: ItemState): string | undefined {
  if (item.entries === 0) return undefined;
  return `${item.entries} ${item.entries === 1 ? "entry" : "entries"}, ${
    humanSize(item.written)
  } written`;
}

/**
 * The bar line for `item` at `now`, at most `width - 1` columns: label,
 * bar, bytes, rate, ETA and the written counter, dropping the bar, then the
 * ETA, the counter and the rate when the terminal is too narrow, and
 * cutting what is left. With `color`, the done part of the bar is green.
 * Pure.
 */
export function barLine(
  item: ItemState,
  now: number,
  width: number,
  color: boolean,
): string {
  const elapsed = now - item.startedAt;
  const known = item.total !== undefined && item.total > 0;
  const fraction = known ? Math.min(1, item.bytes / item.total!) : 0;
  const bytes = known
    ? `${humanSize(item.bytes)}/${humanSize(item.total!)}`
    : humanSize(item.bytes);
  const rate = formatRate(item.bytes, elapsed);
  const perMs = elapsed > 0 ? item.bytes / elapsed : 0;
  const eta = known && perMs > 0 && item.bytes < item.total!
    ? `ETA ${formatDuration((item.total! - item.bytes) / perMs)}`
    : undefined;
  const slots = 20;
  const filled = Math.round(fraction * slots);
  const bar = known
    ? { plain: `[${"#".repeat(filled)}${"-".repeat(slots - filled)}]`, filled }
    : undefined;
  const room = Math.max(10, width - 1);
  const compose = (
    parts: { bar: boolean; eta: boolean; counter: boolean; rate: boolean },
  ) =>
    [
      item.label,
      parts.bar ? bar?.plain : undefined,
      bytes,
      parts.rate ? rate : undefined,
      parts.eta ? eta : undefined,
      parts.counter ? counter(item) : undefined,
    ].filter((p): p is string => p !== undefined).join("  ");
  const tries = [
    { bar: true, eta: true, counter: true, rate: true },
    { bar: false, eta: true, counter: true, rate: true },
    { bar: false, eta: false, counter: true, rate: true },
    { bar: false, eta: false, counter: false, rate: true },
    { bar: false, eta: false, counter: false, rate: false },
  ];
  for (const parts of tries) {
    const text = compose(parts);
    if (text.length > room) continue;
    if (!parts.bar || bar === undefined || !color || bar.filled === 0) {
      return text;
    }
    // Colour the done part; escape sequences take no columns.
    const done = "#".repeat(bar.filled);
    return text.replace(
      bar.plain,
      `[\x1b[32m${done}\x1b[0m${"-".repeat(slots - bar.filled)}]`,
    );
  }
  return compose(tries[4]!).slice(0, room);
}

/** `TITLE: LABEL (SIZE): started`. Pure. */
export function startLine(title: string, item: ItemState): string {
  const size = item.total === undefined ? "" : ` (${humanSize(item.total)})`;
  return `${title}: ${item.label}${size}: started`;
}

/** `TITLE: LABEL: SIZE in TIME (RATE), N entries, SIZE written`. Pure. */
export function endLine(title: string, item: ItemState, now: number): string {
  const elapsed = now - item.startedAt;
  const written = counter(item);
  return `${title}: ${item.label}: ${humanSize(item.bytes)} in ${
    formatDuration(elapsed)
  } (${formatRate(item.bytes, elapsed)})${written ? `, ${written}` : ""}`;
}

/** `TITLE: LABEL: REASON` for an item that needed no transfer. Pure. */
export function skipLine(title: string, item: ItemState, reason: string) {
  return `${title}: ${item.label}: ${reason}`;
}

/** Totals over the items of one display. */
export interface Totals {
  /** Items completed (skipped ones included). */
  items: number;
  /** Of those, items that needed no transfer. */
  skipped?: number;
  /** Bytes transferred. */
  bytes: number;
  /** Entries written. */
  entries: number;
  /** Bytes of file content written. */
  written: number;
  /** When the first item started. */
  startedAt: number;
}

/**
 * `TITLE: done: N NOUNs (N skipped), SIZE in TIME (RATE), N entries, SIZE
 * written`; the skipped count only when some were, the written counter only
 * when entries were written (not for a push). Pure.
 */
export function summaryLine(
  title: string,
  noun: string,
  totals: Totals,
  now: number,
): string {
  const elapsed = now - totals.startedAt;
  const skipped = totals.skipped ? ` (${totals.skipped} skipped)` : "";
  const items = `${totals.items} ${noun}${
    totals.items === 1 ? "" : "s"
  }${skipped}`;
  const written = totals.entries === 0
    ? ""
    : `, ${totals.entries} entries, ${humanSize(totals.written)} written`;
  return `${title}: done: ${items}, ${humanSize(totals.bytes)} in ${
    formatDuration(elapsed)
  } (${formatRate(totals.bytes, elapsed)})${written}`;
}
