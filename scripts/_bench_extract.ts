/**
 * The extract part of `deno task bench` (`--only extract`): polythene's
 * layer extraction (`extractLayer`, run by a `deno run` script with the
 * compiled binary's permissions) against `tar -x`, both reading the Debian
 * layer as an uncompressed local tar and writing a fresh directory, with
 * no download, digest or decompression: the inode-creating part of a pull
 * alone.
 *
 * Each pair runs in two placements, rotated within each round, each run
 * into a new directory, the previous run's tree removed and `sync`ed first
 * (untimed):
 *
 * - **plain**: `DIR/out-N` under an ordinary directory, as `tar -x -C`
 *   into a new directory would;
 * - **spread**: `DIR/UUID` under a `chattr +T` directory, as polythene makes
 *   each entry (`src/store/spread.ts`).
 *
 * On the benchmark VM (ext4 without a journal) the placement decides most
 * of the cost: in the crowded block group of an ordinary parent, each inode
 * allocation can scan far past inodes freed in the last 30 s; under `+T`
 * the allocator picks a group with room, starting from a hash of the new
 * directory's name. The spread pair shows each program's own cost.
 *
 * Permissions: all (`-A`) as part of `bench.ts`.
 *
 * @module
 */

import { permissionFlags } from "../src/permissions.ts";
import {
  formatMs,
  formatRatio,
  markdownTable,
  median,
  roundRatios,
} from "./_bench_stats.ts";
import {
  interleavedRounds,
  ROOT,
  timedRun,
  TOOL_PATH,
} from "./_bench_common.ts";
import { debianImage } from "./debian_image.ts";

/** What the extract bench needs from its caller. */
export interface ExtractBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** Environment of every `deno run`. */
  env: Record<string, string>;
  /** A progress line on stderr. */
  progress(message: string): void;
}

/** The script that extracts one layer file with polythene's code. */
const SCRIPT = `
import { extractLayer } from "${ROOT}src/image/layers/mod.ts";
const [layer, dest] = Deno.args;
await Deno.mkdir(dest, { recursive: true });
const file = await Deno.open(layer);
await extractLayer(file.readable, dest, { asRoot: Deno.uid() === 0 });
`;

interface Candidate {
  id: string;
  spread: boolean;
  argv(dir: string): string[];
}

/** Runs the extract bench; returns a Markdown section. */
export async function benchExtract(
  options: ExtractBenchOptions,
): Promise<string> {
  const { progress } = options;
  const tool = { PATH: TOOL_PATH };
  const tmp = await Deno.makeTempDir({ prefix: "polythene-bench-extract-" });
  try {
    const image = await debianImage();
    const layer = `${tmp}/layer.tar`;
    await timedRun([
      "sh",
      "-c",
      'gzip -dc "$1" > "$2"',
      "sh",
      image.tarGz,
      layer,
    ], {
      env: tool,
    });
    const script = `${tmp}/extract.ts`;
    await Deno.writeTextFile(script, SCRIPT);
    const deno = (dir: string) => [
      Deno.execPath(),
      "run",
      "--quiet",
      "--no-prompt",
      "--config",
      `${ROOT}deno.json`,
      ...permissionFlags(),
      script,
      layer,
      dir,
    ];
    const tar = (dir: string) => [
      "sh",
      "-c",
      'mkdir "$2" && tar -x --numeric-owner -f "$1" -C "$2"',
      "sh",
      layer,
      dir,
    ];
    const candidates: Candidate[] = [
      { id: "tar-plain", spread: false, argv: tar },
      { id: "polythene-plain", spread: false, argv: deno },
      { id: "tar-spread", spread: true, argv: tar },
      { id: "polythene-spread", spread: true, argv: deno },
    ];
    await Deno.mkdir(`${tmp}/plain`);
    await Deno.mkdir(`${tmp}/spread`);
    await timedRun(["chattr", "+T", "--", `${tmp}/spread`], { env: tool });
    let last: string | undefined;
    let n = 0;
    const samples = await interleavedRounds(candidates, {
      runs: options.runs,
      onRound: (round) =>
        progress(`extract: round ${round + 1}/${options.runs}`),
      measure: async (c) => {
        if (last !== undefined) {
          await Deno.remove(last, { recursive: true });
          last = undefined;
        }
        await timedRun(["sync"], { env: tool });
        const dir = c.spread
          ? `${tmp}/spread/${crypto.randomUUID()}`
          : `${tmp}/plain/out-${n++}`;
        last = dir;
        const env = c.id.startsWith("tar") ? tool : options.env;
        return (await timedRun(c.argv(dir), { env, stdin: "null" })).ms;
      },
    });
    const s = (id: string) => samples.get(id)!;
    const rows = [
      ["plain: DIR/out-N", "tar-plain", "polythene-plain"],
      ["spread: DIR/UUID under chattr +T", "tar-spread", "polythene-spread"],
    ].map(([state, tarId, polyId]) => [
      state!,
      formatMs(median(s(tarId!))),
      formatMs(median(s(polyId!))),
      formatRatio(median(roundRatios(s(polyId!), [s(tarId!)]))),
    ]);
    return [
      "# extraction alone: polythene against tar -x",
      "",
      `The Debian layer (${image.tarGz}) as an uncompressed local tar, ` +
      `extracted into a fresh directory under ${tmp}; ${options.runs} ` +
      "rounds, candidates rotated within each round, ratios per round, medians.",
      "",
      markdownTable(
        ["placement", "tar -x ms", "polythene ms", "polythene / tar"],
        rows,
        ["left", "right", "right", "right"],
      ),
      "",
    ].join("\n");
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
