/**
 * The clone part of `deno task bench` (`--only clone`): `polythene clone`
 * of the Debian entry against `cp -a` of the same tree, interleaved over
 * `runs` rounds (the order alternating), each copy removed and `sync`ed
 * afterwards, untimed; ratios per round, medians reported. Both go through
 * the same copier (`src/store/copy_tree.ts`), so the ratio is clone's own
 * overhead: the CLI's start, locks, metadata and the publish.
 *
 * Permissions: all (`-A`) as part of `bench.ts`.
 *
 * @module
 */

import { writeOciLayout } from "../tests/helpers/oci_image.ts";
import {
  formatRatio,
  markdownTable,
  median,
  roundRatios,
} from "./_bench_stats.ts";
import { interleavedRounds, timedRun, TOOL_PATH } from "./_bench_common.ts";
import { debianImage, debianOciImage } from "./debian_image.ts";

/** What the clone bench needs from its caller. */
export interface CloneBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** argv of `polythene ARGS` as the `polythene` task runs it. */
  polythene(args: string[]): string[];
  /** Environment of every `deno run`. */
  env: Record<string, string>;
  /** A progress line on stderr. */
  progress(message: string): void;
}

const timed = (argv: string[], env: Record<string, string>) =>
  timedRun(argv, { env, stdin: "null" });

/** Runs the clone bench; returns a Markdown section. */
export async function benchClone(options: CloneBenchOptions): Promise<string> {
  const { progress } = options;
  const tool = { PATH: TOOL_PATH };
  const tmp = await Deno.makeTempDir({ prefix: "polythene-bench-clone-" });
  try {
    progress("clone: pulling the Debian image into a store");
    const image = await debianOciImage(await debianImage());
    await writeOciLayout(`${tmp}/oci`, image, "bookworm");
    const store = `${tmp}/store`;
    const pulled = await timed(
      options.polythene([
        "pull",
        "-q",
        "--store",
        store,
        `oci:${tmp}/oci:bookworm`,
      ]),
      options.env,
    );
    const uuid = pulled.stdout.trim();
    const candidates = [
      {
        id: "clone",
        label: "polythene clone (Debian entry)",
        run: async () => {
          const made = await timed(
            options.polythene(["clone", "--store", store, uuid]),
            options.env,
          );
          await timed(
            options.polythene(["rm", "--store", store, made.stdout.trim()]),
            options.env,
          );
          return made.ms;
        },
      },
      {
        id: "cp",
        label: "cp -a of the same tree",
        run: async () => {
          const made = await timed(
            ["cp", "-a", `${store}/${uuid}`, `${tmp}/copy`],
            tool,
          );
          await timed(["rm", "-rf", `${tmp}/copy`], tool);
          return made.ms;
        },
      },
    ];
    const samples = await interleavedRounds(candidates, {
      runs: options.runs,
      measure: async (c) => {
        const ms = await c.run();
        await timed(["sync"], tool);
        return ms;
      },
      onRound: (round) => progress(`clone: round ${round + 1}/${options.runs}`),
    });
    const ratio = median(
      roundRatios(samples.get("clone")!, [samples.get("cp")!]),
    );
    return [
      "# polythene clone",
      "",
      `${options.runs} interleaved rounds; ratio per round, median reported.`,
      "",
      markdownTable(
        ["candidate", "median s", "ratio to cp -a"],
        candidates.map((c) => [
          c.label,
          (median(samples.get(c.id)!) / 1000).toFixed(2),
          c.id === "clone" ? formatRatio(ratio) : "1.00",
        ]),
        ["left", "right", "right"],
      ),
      "",
    ].join("\n");
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
