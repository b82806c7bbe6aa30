/**
 * A one-line progress display on a terminal's stderr; nothing elsewhere.
 *
 * @module
 */

/** A progress line that can be updated and cleared. */
export interface Progress {
  /** Replaces the line with `text`. */
  update(text: string): void;
  /** Removes the line. */
  done(): void;
}

/** The terminal's width; 80 when unknown or reported as 0 (a bare pty). */
function columns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/**
 * A progress line when `enabled` and stderr is a terminal; otherwise a
 * display that does nothing.
 */
export function createProgress(enabled: boolean): Progress {
  if (!enabled || !Deno.stderr.isTerminal()) {
    return { update() {}, done() {} };
  }
  const encoder = new TextEncoder();
  let shown = false;
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return {
    update(text) {
      const width = columns();
      write(`\r\x1b[2K${text.slice(0, Math.max(10, width - 1))}`);
      shown = true;
    },
    done() {
      if (shown) write("\r\x1b[2K");
      shown = false;
    },
  };
}
