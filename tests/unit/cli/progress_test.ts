import assert from "node:assert/strict";
import { createProgress } from "../../../src/cli/progress.ts";
import {
  barLine,
  formatDuration,
  type ItemState,
} from "../../../src/cli/progress_format.ts";

const ESC = "\x1b";

function item(more: Partial<ItemState> = {}): ItemState {
  return {
    label: "layer 1/2 sha256:0123456789ab",
    total: 8 << 20,
    bytes: 2 << 20,
    entries: 12,
    written: 3 << 20,
    startedAt: 0,
    ...more,
  };
}

Deno.test("the bar line: bytes, rate, ETA and the written counter", () => {
  const line = barLine(item(), 1000, 200, false);
  assert.equal(
    line,
    "layer 1/2 sha256:0123456789ab  [#####---------------]  2.0 MiB/8.0 MiB  2.0 MiB/s  ETA 3.0s  12 entries, 3.0 MiB written",
  );
  assert.ok(barLine(item(), 1000, 200, true).includes(`${ESC}[32m#####`));
});

Deno.test("a narrow terminal drops the bar, then ETA, counter, rate", () => {
  for (const width of [100, 70, 50, 45, 20]) {
    const line = barLine(item(), 1000, width, true);
    assert.ok(line.length <= width - 1, `${width}: ${line}`);
    assert.ok(line.startsWith("layer 1/2"), line);
  }
  assert.equal(
    barLine(item(), 1000, 60, true),
    "layer 1/2 sha256:0123456789ab  2.0 MiB/8.0 MiB  2.0 MiB/s",
  );
});

Deno.test("an unknown size shows bytes without bar or ETA", () => {
  assert.equal(
    barLine(item({ total: undefined, entries: 0 }), 2000, 120, false),
    "layer 1/2 sha256:0123456789ab  2.0 MiB  1.0 MiB/s",
  );
  assert.equal(formatDuration(65_000), "1m05s");
  assert.equal(formatDuration(400), "0.4s");
});

function recorded(
  options: { terminal: boolean; env?: Record<string, string> },
) {
  let text = "";
  let clock = 0;
  const progress = createProgress({
    enabled: true,
    title: "pull img\x1b[2J",
    noun: "layer",
    terminal: options.terminal,
    env: (name) => options.env?.[name],
    write: (t) => text += t,
    now: () => clock,
  });
  progress.start("layer 1/1", 1000);
  for (const bytes of [100, 500, 1000]) {
    clock += 200;
    progress.advance(bytes);
    progress.written(bytes / 100, bytes);
  }
  progress.end();
  progress.finish(true);
  return text;
}

Deno.test("without a terminal: start, end and summary lines, no controls", () => {
  const text = recorded({ terminal: false });
  assert.equal(
    text,
    "pull img\\x1b[2J: layer 1/1 (1000 B): started\n" +
      "pull img\\x1b[2J: layer 1/1: 1000 B in 0.6s (1.6 KiB/s), 10 entries, 1000 B written\n" +
      "pull img\\x1b[2J: done: 1 layer, 1000 B in 0.6s (1.6 KiB/s), 10 entries, 1000 B written\n",
  );
  const grouped = recorded({
    terminal: false,
    env: { GITHUB_ACTIONS: "true" },
  });
  assert.ok(grouped.startsWith("::group::pull img\\x1b[2J\n"), grouped);
  assert.ok(grouped.endsWith("written\n::endgroup::\n"), grouped);
});

Deno.test("on a terminal: the bar grows, then the completed line", () => {
  const text = recorded({ terminal: true, env: { COLUMNS: "200" } });
  const frames = text.split("\r\x1b[2K").filter((f) => f.startsWith("layer"));
  assert.deepEqual(
    frames.map((f) => f.match(/ (\d+ B)\/1000 B/)?.[1]),
    ["0 B", "100 B", "500 B", "1000 B", "1000 B"],
  );
  // deno-lint-ignore no-control-regex
  assert.match(text, /\r\x1b\[2Kpull img\\x1b\[2J: layer 1\/1: 1000 B in/);
  assert.ok(!text.includes("::group::"));
});

Deno.test("disabled: nothing at all", () => {
  let text = "";
  const progress = createProgress({
    enabled: false,
    title: "pull img",
    terminal: true,
    write: (t) => text += t,
  });
  progress.start("layer 1/1", 10);
  progress.end();
  progress.finish(true);
  assert.equal(text, "");
  assert.equal(progress.visible, false);
});

Deno.test("a skipped item: its reason, escaped, and a skipped count in the summary", () => {
  let text = "";
  let clock = 0;
  const progress = createProgress({
    enabled: true,
    title: "push reg/x:1",
    noun: "blob",
    terminal: false,
    env: () => undefined,
    write: (t) => text += t,
    now: () => clock,
  });
  progress.start("blob 1/2 sha256:0123456789ab", 4096);
  progress.skip("mounted from evil\x1b[2J");
  progress.start("blob 2/2 sha256:ba9876543210", 1000);
  clock += 500;
  progress.advance(1000);
  progress.end();
  progress.finish(true);
  assert.equal(
    text,
    "push reg/x:1: blob 1/2 sha256:0123456789ab (4.0 KiB): started\n" +
      "push reg/x:1: blob 1/2 sha256:0123456789ab: mounted from evil\\x1b[2J\n" +
      "push reg/x:1: blob 2/2 sha256:ba9876543210 (1000 B): started\n" +
      "push reg/x:1: blob 2/2 sha256:ba9876543210: 1000 B in 0.5s (2.0 KiB/s)\n" +
      // No entries were written: no written counter.
      "push reg/x:1: done: 2 blobs (1 skipped), 1000 B in 0.5s (2.0 KiB/s)\n",
  );
});

Deno.test("a skipped item on a terminal clears its bar and prints its line", () => {
  let text = "";
  const progress = createProgress({
    enabled: true,
    title: "push reg/x:1",
    terminal: true,
    env: (name) => name === "COLUMNS" ? "200" : undefined,
    write: (t) => text += t,
    now: () => 0,
  });
  progress.start("blob 1/1 sha256:0123456789ab", 10);
  progress.skip("the registry has it");
  progress.finish();
  assert.ok(
    text.endsWith(
      "\r\x1b[2Kpush reg/x:1: blob 1/1 sha256:0123456789ab: the registry has it\n",
    ),
    JSON.stringify(text),
  );
});
