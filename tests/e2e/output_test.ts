/**
 * What polythene writes to a terminal and elsewhere: pull's progress as a
 * bar on a terminal and as lines in a log (grouped under GitHub Actions),
 * never with `--quiet`; `--verbose` error details in colour
 * only on a terminal and never under `NO_COLOR`. The terminal is a real pty
 * from util-linux `script`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { onTerminal } from "../helpers/terminal.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import { busyboxEntries, noise, tempStore } from "../helpers/pull_checks.ts";

const ESC = "\x1b";
const needsScript = onPath("script") ? undefined : "script (util-linux)";

testNeeding(
  needsScript,
  "output: --verbose error details are coloured only on a terminal without NO_COLOR",
  async () => {
    await using files = await tempStore();
    const args = ["pull", "-v", "--store", files.store, "oci:/nonexistent:1"];

    const coloured = await onTerminal(args);
    assert.equal(coloured.code, 1, coloured.shown);
    assert.match(coloured.shown, /NotFound: .*oci-layout/);
    assert.ok(
      coloured.shown.includes(ESC),
      `colour on a terminal:\n${coloured.shown}`,
    );

    const plain = await onTerminal(args, { NO_COLOR: "1" });
    assert.equal(plain.code, 1, plain.shown);
    assert.match(plain.shown, /NotFound: .*oci-layout/);
    assert.equal(plain.shown.includes(ESC), false, plain.shown);

    const piped = await runPolythene(args);
    assert.equal(piped.code, 1, piped.stderr);
    assert.match(piped.stderr, /NotFound: .*oci-layout/);
    assert.equal(piped.stderr.includes(ESC), false, piped.stderr);
  },
);

testNeeding(
  needsScript,
  "output: pull's progress: a bar on a terminal, lines in a log, nothing with --quiet",
  async () => {
    await using files = await tempStore();
    const image = await buildImage({
      layers: [
        { compression: "gzip", entries: busyboxEntries(["sh"]) },
        {
          compression: "none",
          entries: [{ name: "noise", content: noise(8 << 20) }],
        },
      ],
    });
    await writeOciLayout(`${files.dir}/layout`, image, "1");
    const args = ["pull", "--store", files.store, `oci:${files.dir}/layout:1`];

    // A bar per layer whose byte counter grows, then each layer's line.
    const shown = await onTerminal(args, { COLUMNS: "200" });
    assert.equal(shown.code, 0, shown.shown);
    const frames = shown.shown.split(`\r${ESC}[2K`)
      .filter((f) => f.startsWith("layer 2/2 "))
      .map((f) => f.match(/ ([\d.]+) (B|KiB|MiB)\/8\.0 MiB /))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]) * { B: 1, KiB: 1024, MiB: 1 << 20 }[m[2]!]!);
    assert.ok(frames.length >= 2, shown.shown);
    assert.ok(frames[0]! < frames.at(-1)!, `grows: ${frames.join(" ")}`);
    assert.equal(frames.at(-1), 8 << 20);
    assert.match(
      shown.shown,
      // deno-lint-ignore no-control-regex
      /\r\x1b\[2Kpull \S+: layer 2\/2 sha256:[0-9a-f]{12}: 8\.0 MiB in [\d.ms]+ \([^)]+\/s\), 1 entry, 8\.0 MiB written\r?\n/,
    );

    const narrow = await onTerminal(args, { COLUMNS: "40", NO_COLOR: "1" });
    assert.equal(narrow.code, 0, narrow.shown);
    for (const frame of narrow.shown.split(`\r${ESC}[2K`)) {
      if (frame.startsWith("layer ")) assert.ok(frame.length < 40, frame);
    }
    assert.ok(!narrow.shown.includes(`${ESC}[32m`), "no colour under NO_COLOR");

    const quiet = await onTerminal([
      ...args.slice(0, 1),
      "-q",
      ...args.slice(1),
    ]);
    assert.equal(quiet.code, 0, quiet.shown);
    assert.equal(quiet.shown.includes(ESC), false, quiet.shown);
    assert.match(quiet.shown, /^[0-9a-f-]{36}\r?\n$/);

    // A warm pull (the store now caches this layer stack) copies the tree:
    // one item, said as such, then the summary.
    const warm = await runPolythene(args);
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(
      warm.stderr,
      /^pull oci:\S+: cached layers [0-9a-f]{12} \([\d.]+ MiB\): started\npull oci:\S+: cached layers [0-9a-f]{12}: [\d.]+ MiB in \S+ \([^)]+\/s\), \d+ entries, 9\.9 MiB written\npull oci:\S+: done: /,
    );

    // Piped, on a store that has not cached the stack yet: a line as each
    // layer starts and ends, and a summary.
    const fresh = [...args];
    fresh[2] = `${files.dir}/fresh-store`;
    const piped = await runPolythene(fresh);
    assert.equal(piped.code, 0, piped.stderr);
    const lines = piped.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 5, piped.stderr);
    assert.match(
      lines[0]!,
      /^pull oci:\S+: layer 1\/2 sha256:[0-9a-f]{12} \([\d.]+ \w+\): started$/,
    );
    assert.match(
      lines[3]!,
      /^pull oci:\S+: layer 2\/2 sha256:[0-9a-f]{12}: 8\.0 MiB in \S+ \(\S+ \w+\/s\), 1 entry, 8\.0 MiB written$/,
    );
    assert.match(lines[4]!, /^pull oci:\S+: done: 2 layers, [\d.]+ MiB in /);
    assert.equal(piped.stderr.includes(ESC), false, piped.stderr);
    assert.equal(piped.stderr.includes("\r"), false, piped.stderr);

    const grouped = await runPolythene(fresh, {
      env: { GITHUB_ACTIONS: "true" },
    });
    assert.equal(grouped.code, 0, grouped.stderr);
    const groupLines = grouped.stderr.trimEnd().split("\n");
    assert.equal(groupLines[0], `::group::pull oci:${files.dir}/layout:1`);
    assert.equal(groupLines.at(-1), "::endgroup::");
    assert.equal(groupLines.length, 7, grouped.stderr);

    const silent = await runPolythene([
      ...args.slice(0, 1),
      "-q",
      ...args.slice(1),
    ]);
    assert.deepEqual([silent.code, silent.stderr], [0, ""]);

    // clone counts its copy the same way.
    const uuid = silent.stdout.trim();
    const cloned = await runPolythene(["clone", "--store", files.store, uuid]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.match(
      cloned.stderr,
      new RegExp(
        `^clone: copy of ${uuid} \\([\\d.]+ MiB\\): started\n` +
          `clone: copy of ${uuid}: [\\d.]+ MiB in \\S+ \\([^)]+/s\\), \\d+ entries, [\\d.]+ MiB written\n$`,
      ),
    );
    const quietClone = await runPolythene(
      ["clone", "-q", "--store", files.store, uuid],
    );
    assert.deepEqual([quietClone.code, quietClone.stderr], [0, ""]);
  },
);
