/**
 * Whole-suite runner behind `deno task test`: runs `deno test` over `tests/`,
 * then the Gherkin features under `features/` with cucumber-js, streaming
 * their output, and prints as its very last line the summed
 * `N passed, N failed` that CI reads.
 *
 * ```sh
 * deno run -A scripts/test.ts [--unit] [--filter TEXT]
 * ```
 *
 * - `--unit` runs only `tests/unit/` and skips the features.
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
const USAGE = "Usage: deno run -A scripts/test.ts [--unit] [--filter TEXT]";

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
      options: { unit: { type: "boolean" }, filter: { type: "string" } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const runners: Runner[] = [{
    label: values.unit ? "unit tests" : "tests",
    args: [
      "test",
      "-A",
      "--no-check=remote",
      ...(values.filter === undefined ? [] : ["--filter", values.filter]),
      values.unit ? "tests/unit/" : "tests/",
    ],
    parse: parseDenoTestSummary,
  }];
  if (!values.unit) {
    runners.push({
      label: "features",
      args: ["run", "-A", await cucumberBin()],
      parse: parseCucumberSummary,
    });
  }

  const results: Counts[] = [];
  for (const runner of runners) {
    const counts = await run(runner);
    console.log(
      `\n${runner.label}: ${formatSummary(counts)}, ${counts.skipped} skipped`,
    );
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
