/**
 * `commit` and `push` show the same progress as `pull`: piped, a line as
 * each layer or blob starts and ends (the base's layers said to be reused,
 * blobs the registry has or mounted said as such) and a summary, with no
 * control sequences; on a terminal (a real pty from util-linux `script`) a
 * bar per item, replaced by its line when it ends; nothing with `--quiet`.
 *
 * The entry is pulled from a loopback `docker-registry` (so it has a base)
 * and gets 4 MiB of new content.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { onTerminal } from "../helpers/terminal.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  assertPulled,
  busyboxEntries,
  explain,
  noise,
  tempStore,
} from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { hostPlatform } from "../../src/image/platform.ts";

const ESC = "\x1b";
/** A wide terminal without colour: each bar frame whole on one line. */
const WIDE = { COLUMNS: "200", NO_COLOR: "1" };

function missing(): string | undefined {
  const missing: string[] = [];
  if (!onPath("script")) missing.push("script (util-linux)");
  const registry = registryMissing();
  if (registry) missing.push(registry);
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
}

/** `[\d.]+ UNIT` sizes in bar frames starting with `label`, in bytes. */
function frameBytes(shown: string, label: string): number[] {
  const unit: Record<string, number> = { B: 1, KiB: 1024, MiB: 1 << 20 };
  return shown.split(`\r${ESC}[2K`)
    .filter((f) => f.startsWith(label))
    .map((f) => f.match(/ ([\d.]+) (B|KiB|MiB)\/4\.0 MiB /))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]) * unit[m[2]!]!);
}

testNeeding(
  missing(),
  "output: commit and push progress: lines in a log, a bar on a terminal, nothing with --quiet",
  async (t) => {
    await using registry = await startRegistry();
    await using files = await tempStore();
    const store = files.store;
    await pushImage(
      registry,
      "test/base",
      "1",
      await buildImage({
        platform: hostPlatform(),
        layers: [{ compression: "gzip", entries: busyboxEntries(["sh"]) }],
      }),
    );
    const uuid = assertPulled(
      await runPolythene([
        "pull",
        "-q",
        "-s",
        store,
        `${registry.host}/test/base:1`,
      ]),
    );
    await Deno.writeFile(`${store}/${uuid}/noise`, noise(4 << 20));
    await Deno.writeTextFile(`${store}/${uuid}/bin/note`, "hi\n");
    const title = `commit ${uuid}`;

    await t.step(
      "commit, piped: the base reused, the new layer counted",
      async () => {
        const piped = await runPolythene([
          "commit",
          "-s",
          store,
          uuid,
          "out:1",
        ]);
        assert.equal(piped.code, 0, explain(piped));
        assert.match(piped.stdout, /^sha256:[0-9a-f]{64}\n$/);
        const lines = piped.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 5, piped.stderr);
        assert.match(
          lines[0]!,
          new RegExp(
            `^${title}: layer 1/2 sha256:[0-9a-f]{12} \\([\\d.]+ \\w+\\): started$`,
          ),
        );
        assert.match(
          lines[1]!,
          new RegExp(
            `^${title}: layer 1/2 sha256:[0-9a-f]{12}: reused from the base$`,
          ),
        );
        assert.equal(lines[2], `${title}: layer 2/2 new (4.0 MiB): started`);
        // The noise file, /bin and /bin/note.
        assert.match(
          lines[3]!,
          new RegExp(
            `^${title}: layer 2/2 new: 4\\.0 MiB in \\S+ \\([^)]+/s\\), 3 entries, 4\\.0 MiB written$`,
          ),
        );
        assert.match(
          lines[4]!,
          new RegExp(
            `^${title}: done: 2 layers \\(1 skipped\\), 4\\.0 MiB in `,
          ),
        );
        assert.equal(piped.stderr.includes(ESC), false, piped.stderr);
        assert.equal(piped.stderr.includes("\r"), false, piped.stderr);
      },
    );

    await t.step(
      "commit on a terminal: a bar that reaches the content to write",
      async () => {
        const shown = await onTerminal(["commit", "-s", store, uuid], WIDE);
        assert.equal(shown.code, 0, shown.shown);
        const frames = frameBytes(shown.shown, "layer 2/2 new ");
        assert.ok(frames.length >= 1, shown.shown);
        assert.equal(frames.at(-1), 4 << 20, shown.shown);
        assert.match(
          shown.shown,
          new RegExp(`\r${ESC}\\[2K${title}: layer 2/2 new: 4\\.0 MiB in `),
        );
      },
    );

    await t.step("commit -q: nothing on stderr", async () => {
      const quiet = await runPolythene(["commit", "-q", "-s", store, uuid]);
      assert.deepEqual([quiet.code, quiet.stderr], [0, ""], explain(quiet));
    });

    const dest = `${registry.host}/test/out:1`;
    const pushTitle = `push ${dest}`;
    await t.step(
      "push, piped: blobs uploaded, the base's mounted",
      async () => {
        const piped = await runPolythene(["push", "-s", store, "out:1", dest]);
        assert.equal(piped.code, 0, explain(piped));
        const lines = piped.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 7, piped.stderr);
        const blob = (i: number) =>
          `${pushTitle}: blob ${i}/3 sha256:[0-9a-f]{12}`;
        const ended = ": [\\d.]+ \\w+ in \\S+ \\([^)]+/s\\)$";
        // The config, then the base layer (mounted), then the new layer.
        assert.match(
          lines[0]!,
          new RegExp(`^${blob(1)} \\([\\d.]+ \\w+\\): started$`),
        );
        assert.match(lines[1]!, new RegExp(`^${blob(1)}${ended}`));
        assert.match(lines[2]!, new RegExp(`^${blob(2)} \\(.+\\): started$`));
        assert.match(
          lines[3]!,
          new RegExp(`^${blob(2)}: mounted from test/base$`),
        );
        assert.match(lines[4]!, new RegExp(`^${blob(3)} \\(.+\\): started$`));
        // The new layer: 4 MiB of noise, counted as the registry took it.
        assert.match(lines[5]!, new RegExp(`^${blob(3)}: 4\\.\\d MiB in `));
        assert.match(
          lines[6]!,
          new RegExp(
            `^${pushTitle}: done: 3 blobs \\(1 skipped\\), [\\d.]+ MiB in \\S+ \\([^)]+/s\\)$`,
          ),
        );
        assert.equal(piped.stderr.includes(ESC), false, piped.stderr);
      },
    );

    await t.step(
      "push again: every blob skipped as the registry's",
      async () => {
        const again = await runPolythene(["push", "-s", store, "out:1", dest]);
        assert.equal(again.code, 0, explain(again));
        const skipped = again.stderr.split("\n")
          .filter((l) =>
            / blob \d\/3 sha256:[0-9a-f]{12}: the registry has it$/.test(l)
          );
        assert.equal(skipped.length, 3, again.stderr);
        assert.match(again.stderr, /: done: 3 blobs \(3 skipped\), 0 B in /);
      },
    );

    await t.step(
      "push on a terminal: a bar per blob, then its line",
      async () => {
        const other = `${registry.host}/test/other:1`;
        const shown = await onTerminal(
          ["push", "-s", store, "out:1", other],
          WIDE,
        );
        assert.equal(shown.code, 0, shown.shown);
        const frames = shown.shown.split(`\r${ESC}[2K`);
        assert.ok(
          frames.some((f) => /^blob 3\/3 sha256:[0-9a-f]{12} {2}\[/.test(f)),
          `a bar for the new layer\n${shown.shown}`,
        );
        assert.ok(
          frames.some((f) =>
            f.startsWith(`push ${other}: blob 3/3 `) && / 4\.\d MiB in /.test(f)
          ),
          shown.shown,
        );
        assert.match(
          shown.shown,
          /: blob 2\/3 sha256:[0-9a-f]{12}: mounted from test\/base\r?\n/,
        );
      },
    );

    await t.step("push -q: nothing on stderr", async () => {
      const quiet = await runPolythene([
        "push",
        "-q",
        "-s",
        store,
        "out:1",
        dest,
      ]);
      assert.deepEqual([quiet.code, quiet.stderr], [0, ""], explain(quiet));
      assert.match(quiet.stdout, /@sha256:[0-9a-f]{64}\n$/);
    });
  },
);
