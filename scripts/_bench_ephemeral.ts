/**
 * The ephemeral part of `deno task bench` (`--only ephemeral`): on the Debian
 * minbase entry, `polythene exec --ephemeral UUID -- true` on an overlay and
 * on the copy fall-back, against a plain `exec UUID -- true`.
 *
 * Two stores hold the same entry (the cached Debian layer, unpacked with
 * `tar`): in the second, the overlay's probe record says it cannot be
 * mounted, so its ephemeral runs take the copy fall-back, exactly as on a
 * host without user namespaces. Every round runs the three candidates once,
 * in an order that rotates from round to round; the report gives each one's
 * median and, per round, the ratios to the plain exec, then their medians.
 * Each run is a separate CLI process with the compiled binary's permissions.
 *
 * Needs root (the Debian tree has files of other owners) and the cached
 * image (`scripts/debian_image.ts`, built on first use).
 *
 * @module
 */

import { detectHost } from "../src/backends/host.ts";
import { probeKey } from "../src/backends/probe_cache.ts";
import { OVERLAY_PROGRAMS } from "../src/exec/overlay_run.ts";
import { which } from "../src/process/which.ts";
import {
  formatMs,
  formatRatio,
  markdownTable,
  median,
  roundRatios,
} from "./_bench_stats.ts";
import { interleavedRounds, timedRun } from "./_bench_common.ts";
import { debianImage } from "./debian_image.ts";

/** Options of the ephemeral benchmark. */
export interface EphemeralBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** Untimed rounds first. */
  warmup: number;
  /** `deno run ... main.ts ARGS`, as the `polythene` task runs it. */
  polythene: (args: string[]) => string[];
  /** The environment of every run. */
  env: Record<string, string>;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
}

const timed = (argv: string[], env: Record<string, string>) =>
  timedRun(argv, { env });

/** A store holding the Debian tree as one entry. */
async function debianStore(dir: string, layer: string) {
  const store = `${dir}/store`;
  await Deno.mkdir(store, { recursive: true, mode: 0o700 });
  const uuid = crypto.randomUUID();
  await Deno.mkdir(`${store}/${uuid}`);
  const tar = await new Deno.Command("tar", {
    args: ["-xzf", layer, "--numeric-owner", "-C", `${store}/${uuid}`],
  }).output();
  if (!tar.success) throw new Error(`tar -x ${layer} failed`);
  return { store, uuid };
}

/** Records in `store`'s probe cache that no overlay can be mounted. */
async function refuseOverlay(store: string, path: string): Promise<void> {
  const found = Object.fromEntries(
    OVERLAY_PROGRAMS.map((n) => [n, which(n, path)!]),
  );
  const key = probeKey("overlay", found, detectHost());
  const file = `${store}/.polythene/probes.json`;
  await Deno.mkdir(`${store}/.polythene`, { recursive: true, mode: 0o700 });
  let records: Record<string, unknown> = {};
  try {
    records = JSON.parse(await Deno.readTextFile(file));
  } catch {
    // None yet.
  }
  records[key] = {
    ok: false,
    reason: "refused for the benchmark",
    probedAt: new Date().toISOString(),
  };
  await Deno.writeTextFile(file, JSON.stringify(records));
}

/** Runs the benchmark; returns a Markdown report. */
export async function benchEphemeral(
  options: EphemeralBenchOptions,
): Promise<string> {
  if (Deno.uid() !== 0) return "## exec --ephemeral\n\nSkipped: needs root.\n";
  options.progress("ephemeral: making sure the Debian image is cached");
  const debian = await debianImage();
  const dir = await Deno.makeTempDir({ prefix: "polythene-bench-eph-" });
  try {
    options.progress("ephemeral: unpacking the Debian tree twice");
    const a = await debianStore(`${dir}/a`, debian.tarGz);
    const b = await debianStore(`${dir}/b`, debian.tarGz);
    await refuseOverlay(b.store, options.env.PATH ?? "/usr/bin:/bin");
    const run = (
      s: { store: string; uuid: string },
      ephemeral: boolean,
      verbose = false,
    ) =>
      options.polythene([
        "exec",
        ...(ephemeral ? ["--ephemeral"] : []),
        ...(verbose ? ["--verbose"] : []),
        "--store",
        s.store,
        s.uuid,
        "--",
        "true",
      ]);
    const candidates = [
      { id: "plain", label: "`exec -- true`", argv: run(a, false) },
      {
        id: "overlay",
        label: "`exec --ephemeral -- true`, overlay",
        argv: run(a, true),
      },
      {
        id: "copy",
        label: "`exec --ephemeral -- true`, copy fall-back",
        argv: run(b, true),
      },
    ];
    // Each path once, verbose, to see it is the one meant; the timed runs
    // are quiet, like the plain exec they are compared with.
    for (
      const [s, want] of [[a, /ephemeral overlay of /], [
        b,
        /running in a copy of the entry/,
      ]] as const
    ) {
      const out = await timed(run(s, true, true), options.env);
      if (!want.test(out.stderr)) {
        throw new Error(`not the path expected (${want}):\n${out.stderr}`);
      }
    }
    const samples = await interleavedRounds(candidates, {
      runs: options.runs,
      warmup: options.warmup,
      measure: async (c) => (await timed(c.argv, options.env)).ms,
      onRound: (round) => options.progress(`ephemeral: round ${round + 1}`),
    });
    const plain = samples.get("plain")!;
    const rows = candidates.map((c) => {
      const own = samples.get(c.id)!;
      return [
        c.label,
        formatMs(median(own)),
        c.id === "plain"
          ? "1.00"
          : formatRatio(median(roundRatios(own, [plain]))),
      ];
    });
    return [
      `## exec --ephemeral on the Debian minbase entry (${options.runs} rounds, ${options.warmup} warm-up)`,
      "",
      markdownTable(
        ["candidate", "median ms", "median of per-round ratio to plain exec"],
        rows,
        ["left", "right", "right"],
      ),
      "",
    ].join("\n");
  } finally {
    await new Deno.Command("rm", { args: ["-rf", dir] }).output();
  }
}
