/**
 * Whole-suite runner behind `deno task test`: runs `deno test` over `tests/`,
 * then the Gherkin features under `features/` with cucumber-js, streaming
 * their output, and prints as its very last line the summed
 * `N passed, N failed` that CI reads.
 *
 * ```sh
 * deno run -A scripts/test.ts [--unit | --core] [--filter TEXT]
 * ```
 *
 * The whole suite runs in this order: the unit tests, the core end-to-end
 * tests ({@linkcode CORE_E2E}: the main flows, each file quick), the other
 * end-to-end tests (the slow ones: package installs, races, corpora), then
 * the features. The first two are "the fast part", whose time is printed.
 *
 * - `--unit` runs only `tests/unit/` and skips the features.
 * - `--core` runs the fast part only.
 * - `--filter TEXT` is passed to `deno test --filter`; it does not apply to
 *   the features.
 *
 * Exits 1 when a test failed or a runner crashed; a runner that left no
 * readable summary counts as one failed test. Under `CI=true` a skipped test
 * or scenario counts as failed too, so that CI cannot skip silently.
 *
 * Permissions: all (`-A`); it only spawns the test runners, which get `-A`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type Counts,
  formatSummary,
  parseCucumberSummary,
  parseDenoTestSummary,
  settle,
  sumCounts,
} from "./_summary.ts";

const ROOT = new URL("..", import.meta.url);
const USAGE =
  "Usage: deno run -A scripts/test.ts [--unit | --core] [--filter TEXT]";

/**
 * The core end-to-end tests: every main flow once (pull from each source,
 * exec on each backend, run, the store commands, commit and push,
 * registries.conf, emulation), each file taking seconds. Every other file
 * of `tests/e2e/` runs after them.
 */
export const CORE_E2E: readonly string[] = [
  "cli_walkthrough_test.ts",
  "exec_options_test.ts",
  "conformance_test.ts",
  "conformance_process_test.ts",
  "exec_downgrade_test.ts",
  "exec_capabilities_test.ts",
  "exec_network_test.ts",
  "exec_ephemeral_overlay_test.ts",
  "exec_host_files_test.ts",
  "exec_arch_test.ts",
  "host_shapes_test.ts",
  "extract_hostile_test.ts",
  "pull_sources_test.ts",
  "pull_references_test.ts",
  "pull_faults_test.ts",
  "pull_tamper_test.ts",
  "pull_cache_test.ts",
  "pull_stacks_test.ts",
  "pull_registries_conf_test.ts",
  "pull_proxy_test.ts",
  "run_test.ts",
  "output_test.ts",
  "output_commit_push_test.ts",
  "escape_output_test.ts",
  "store_lifecycle_test.ts",
  "store_locks_test.ts",
  "store_spread_test.ts",
  "doctor_test.ts",
  "library_test.ts",
  "commit_export_test.ts",
  "push_cli_test.ts",
  "permissions_minimal_test.ts",
];

/** The end-to-end files under `dir` that are not core, sorted. */
export function slowE2e(dir: string): string[] {
  const core = new Set(CORE_E2E);
  return [...Deno.readDirSync(dir)]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith("_test.ts") && !core.has(name))
    .sort();
}

interface Runner {
  label: string;
  args: string[];
  parse(output: string): Counts | undefined;
}

/** Runs one test runner, streaming its output, and returns its counts. */
async function run(runner: Runner): Promise<Counts> {
  console.log(`\n=== ${runner.label}: deno ${runner.args.join(" ")}\n`);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: runner.args,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const [shown, kept] = child.stdout.tee();
    const [, output, status] = await Promise.all([
      shown.pipeTo(Deno.stdout.writable, { preventClose: true }),
      new Response(kept).text(),
      child.status,
    ]);
    return settle(runner.parse(output), status.code);
  } catch (error) {
    console.error(`Cannot run ${runner.label}:`, error);
    return settle(undefined, 1);
  }
}

/** The cucumber-js entry point, pinned to the version deno.json imports. */
async function cucumberBin(): Promise<string> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const spec = config.imports?.["@cucumber/cucumber"];
  if (typeof spec !== "string") {
    throw new TypeError('deno.json does not import "@cucumber/cucumber"');
  }
  return `${spec}/cucumber-js`;
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        unit: { type: "boolean" },
        core: { type: "boolean" },
        filter: { type: "string" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const denoTest = (label: string, paths: string[]): Runner => ({
    label,
    args: [
      "test",
      "-A",
      "--no-check=remote",
      ...(values.filter === undefined ? [] : ["--filter", values.filter]),
      ...paths,
    ],
    parse: parseDenoTestSummary,
  });
  const e2e = new URL("tests/e2e/", ROOT).pathname;
  const runners: Runner[] = [denoTest("unit tests", ["tests/unit/"])];
  if (!values.unit) {
    runners.push(
      denoTest("core e2e", CORE_E2E.map((name) => `tests/e2e/${name}`)),
    );
  }
  if (!values.unit && !values.core) {
    runners.push(
      denoTest("slow e2e", slowE2e(e2e).map((name) => `tests/e2e/${name}`)),
      {
        label: "features",
        args: ["run", "-A", await cucumberBin()],
        parse: parseCucumberSummary,
      },
    );
  }

  const results: Counts[] = [];
  const started = performance.now();
  for (const runner of runners) {
    const began = performance.now();
    const counts = await run(runner);
    const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
    console.log(
      `\n${runner.label}: ${formatSummary(counts)}, ${counts.skipped} skipped` +
        ` (${seconds(performance.now() - began)})`,
    );
    if (runner.label === "core e2e") {
      console.log(
        `fast part (unit + core e2e): ${seconds(performance.now() - started)}`,
      );
    }
    results.push(counts);
  }
  const total = sumCounts(results);
  if (Deno.env.get("CI") === "true" && total.skipped > 0) {
    console.log(`${total.skipped} skipped, which CI counts as failed`);
    total.failed += total.skipped;
  }
  console.log(`\n${formatSummary(total)}`);
  return total.failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
