/**
 * What the topic benchmarks (`_bench_push.ts`, `_bench_store.ts`,
 * `_bench_arch.ts`, `_bench_ephemeral.ts`, `_bench_clone.ts`) share: the
 * argv of a polythene CLI run from source, one timed command, and the
 * interleaved rounds over candidates.
 *
 * @module
 */

import { permissionFlags } from "../src/permissions.ts";
import { rotate } from "./_bench_stats.ts";

/** The PATH the benches give the tools they time (tar, cp, curl, sync). */
export const TOOL_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The repository's root, with a trailing `/`. */
export const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

/**
 * argv of `polythene ARGS`: `deno run main.ts` with the compiled binary's
 * permissions.
 */
export function polythene(...args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...permissionFlags(),
    `${ROOT}main.ts`,
    ...args,
  ];
}

/** How {@linkcode timedRun} starts a command. */
export interface TimedRunOptions {
  /** The whole environment (cleared first); default the inherited one. */
  env?: Record<string, string>;
  /** Its stdin; default inherited. */
  stdin?: "null" | "inherit";
}

/** A finished, timed command. */
export interface TimedOutput {
  /** Wall-clock milliseconds from start to exit. */
  ms: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/**
 * Runs `argv` to the end, stdout and stderr piped, and times it.
 *
 * @throws {Error} naming the command and its stderr when it fails.
 */
export async function timedRun(
  argv: readonly string[],
  options: TimedRunOptions = {},
): Promise<TimedOutput> {
  const started = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    stdin: options.stdin ?? "inherit",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed: ${stderr}`);
  }
  return { ms, stdout: new TextDecoder().decode(out.stdout), stderr };
}

/** How {@linkcode interleavedRounds} runs its rounds. */
export interface RoundsOptions<C> {
  /** Timed rounds. */
  runs: number;
  /** Untimed rounds first; default none. */
  warmup?: number;
  /** Runs one candidate once; its milliseconds. `round` counts from 0. */
  measure: (candidate: C, round: number) => Promise<number>;
  /** Called before each round (warm-up ones included), counting from 0. */
  onRound?: (round: number) => void;
}

/**
 * Every candidate once per round, the order rotating from round to round
 * (`rotate`), warm-up rounds first; each candidate's timed samples, by id,
 * in round order.
 */
export async function interleavedRounds<C extends { id: string }>(
  candidates: readonly C[],
  options: RoundsOptions<C>,
): Promise<Map<string, number[]>> {
  const warmup = options.warmup ?? 0;
  const samples = new Map(candidates.map((c) => [c.id, [] as number[]]));
  for (let round = 0; round < warmup + options.runs; round++) {
    options.onRound?.(round);
    for (const c of rotate(candidates, round)) {
      const ms = await options.measure(c, round);
      if (round >= warmup) samples.get(c.id)!.push(ms);
    }
  }
  return samples;
}
