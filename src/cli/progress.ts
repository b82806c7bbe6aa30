/**
 * Showing a {@linkcode ProgressReporter}'s items on stderr, as the CLI
 * does for `pull`, `run`, `clone`, `commit`, `push` and ephemeral copies
 * (and any command that reports progress through `src/progress.ts`):
 *
 * - on a terminal, one bar per item, redrawn in place at most every 100 ms
 *   (bytes, rate, ETA, then entries and bytes written), fitted to the
 *   terminal's width (`COLUMNS`, else the terminal's own), coloured unless
 *   `NO_COLOR`; when an item ends the bar is replaced by its completed line,
 *   and the line is cleared on exit;
 * - elsewhere (a CI log), one line as each item starts and ends (or is
 *   skipped, with the reason: a blob the registry has), and a final
 *   summary, with no control sequences; under `GITHUB_ACTIONS=true` inside
 *   `::group::TITLE` / `::endgroup::`;
 * - nothing at all when disabled (`--quiet`).
 *
 * Labels quote image references, so control characters in them are
 * escaped.
 *
 * @module
 */

import { escapeControl } from "../escape.ts";
import type { ProgressReporter } from "../progress.ts";
import {
  barLine,
  endLine,
  type ItemState,
  skipLine,
  startLine,
  summaryLine,
  type Totals,
} from "./progress_format.ts";

/** A progress display on stderr. */
export interface Progress extends ProgressReporter {
  /** Whether anything can be shown (false when quiet, or nowhere to show). */
  readonly visible: boolean;
  /** Ends the current item as skipped, printing `reason` (see the module doc). */
  skip(reason: string): void;
  /** Prints `text` as a line of its own (the bar is redrawn after it). */
  note(text: string): void;
  /** Clears the bar, e.g. before a warning; the next update redraws it. */
  pause(): void;
  /**
   * Clears the bar; with `summary`, prints the summary line when any item
   * completed; closes the GitHub Actions group. Idempotent.
   */
  finish(summary?: boolean): void;
}

/** How to show progress. */
export interface ProgressOptions {
  /** false shows nothing (`--quiet`). */
  enabled: boolean;
  /** What the lines are about: `pull IMAGE`, `clone UUID`. */
  title: string;
  /** What an item is, for the summary: `layer`. */
  noun?: string;
  /** false: no bar even on a terminal (`--verbose`, whose lines interleave). */
  bar?: boolean;
  /** false: nothing but the transient bar (ephemeral copies). */
  lines?: boolean;
  /** Environment lookup (`COLUMNS`, `GITHUB_ACTIONS`); default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Whether stderr is a terminal; default `Deno.stderr.isTerminal()`. */
  terminal?: boolean;
  /** Where the text goes; default stderr. */
  write?: (text: string) => void;
  /** The clock (ms); default `Date.now`. */
  now?: () => number;
}

const REDRAW_MS = 100;
const CLEAR = "\r\x1b[2K";

/** A display for `options`; see the module doc for what it shows where. */
export function createProgress(options: ProgressOptions): Progress {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const terminal = options.terminal ?? Deno.stderr.isTerminal();
  const bar = options.enabled && terminal && options.bar !== false;
  const lines = options.enabled && options.lines !== false;
  if (!bar && !lines) return silent();
  const encoder = new TextEncoder();
  const write = options.write ??
    ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  const now = options.now ?? Date.now;
  const title = escapeControl(options.title);
  const color = bar && !Deno.noColor && !env("NO_COLOR");
  const group = !bar && env("GITHUB_ACTIONS") === "true";
  let grouped = false;
  let item: ItemState | undefined;
  let totals: Totals | undefined;
  let shown = false;
  let drawn = 0;
  let finished = false;

  const line = (text: string) => {
    if (group && !grouped) {
      write(`::group::${title}\n`);
      grouped = true;
    }
    clear();
    write(`${text}\n`);
  };
  const clear = () => {
    if (shown) write(CLEAR);
    shown = false;
  };
  const draw = (force: boolean) => {
    if (!bar || item === undefined) return;
    const at = now();
    if (!force && at - drawn < REDRAW_MS) return;
    drawn = at;
    write(`${CLEAR}${barLine(item, at, columns(env), color)}`);
    shown = true;
  };

  return {
    visible: true,
    start(label, total) {
      item = {
        label: escapeControl(label),
        total,
        bytes: 0,
        entries: 0,
        written: 0,
        startedAt: now(),
      };
      totals ??= {
        items: 0,
        bytes: 0,
        entries: 0,
        written: 0,
        startedAt: now(),
      };
      if (bar) draw(true);
      else line(startLine(title, item));
    },
    advance(bytes) {
      if (item === undefined) return;
      item.bytes = bytes;
      draw(false);
    },
    written(entries, bytes) {
      if (item === undefined) return;
      item.entries = entries;
      item.written = bytes;
      draw(false);
    },
    end() {
      if (item === undefined) return;
      draw(true);
      if (totals !== undefined) {
        totals.items++;
        totals.bytes += item.bytes;
        totals.entries += item.entries;
        totals.written += item.written;
      }
      if (lines) line(endLine(title, item, now()));
      else clear();
      item = undefined;
    },
    skip(reason) {
      if (item === undefined) return;
      if (totals !== undefined) {
        totals.items++;
        totals.skipped = (totals.skipped ?? 0) + 1;
      }
      if (lines) line(skipLine(title, item, escapeControl(reason)));
      else clear();
      item = undefined;
    },
    note(text) {
      if (lines) line(`${title}: ${escapeControl(text)}`);
    },
    pause() {
      clear();
    },
    finish(summary = false) {
      if (finished) return;
      finished = true;
      clear();
      if (summary && lines && totals !== undefined && totals.items > 0) {
        line(summaryLine(title, options.noun ?? "item", totals, now()));
      }
      if (grouped) write("::endgroup::\n");
    },
  };
}

/** The terminal's width: `COLUMNS`, else its own, else 80. */
function columns(env: (name: string) => string | undefined): number {
  const named = Number(env("COLUMNS"));
  if (Number.isInteger(named) && named > 0) return named;
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

function silent(): Progress {
  return {
    visible: false,
    start() {},
    advance() {},
    written() {},
    end() {},
    skip() {},
    note() {},
    pause() {},
    finish() {},
  };
}
