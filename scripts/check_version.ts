/**
 * Checks that the version is the same everywhere it is written: `deno.json`,
 * `src/version.ts` (what `--version` prints) and, when given, the release
 * tag (`vX.Y.Z`). The release workflow runs it before building.
 *
 * ```sh
 * deno run --allow-read scripts/check_version.ts [TAG]
 * ```
 *
 * Exits 1 with one line naming the mismatch.
 *
 * @module
 */

import { VERSION } from "../src/version.ts";

/** The mismatch between the versions, or undefined when they agree. Pure. */
export function versionProblem(
  denoJsonVersion: unknown,
  sourceVersion: string,
  tag?: string,
): string | undefined {
  if (denoJsonVersion !== sourceVersion) {
    return `deno.json has version ${
      JSON.stringify(denoJsonVersion)
    } but src/version.ts has "${sourceVersion}"`;
  }
  if (tag !== undefined && tag !== "" && tag !== `v${sourceVersion}`) {
    return `the tag "${tag}" is not v${sourceVersion}, the version in deno.json and src/version.ts`;
  }
  return undefined;
}

if (import.meta.main) {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const problem = versionProblem(config.version, VERSION, Deno.args[0]);
  if (problem !== undefined) {
    console.error(`check_version: ${problem}`);
    Deno.exit(1);
  }
  console.log(`version ${VERSION}`);
}
