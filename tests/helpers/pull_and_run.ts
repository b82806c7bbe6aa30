/**
 * Pull an image with the CLI and run a shell script in the new entry, as
 * the push tests check that what they pushed works.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "./cli.ts";
import { explain } from "./pull_checks.ts";

/**
 * `polythene pull -q --store STORE REF`, then `polythene exec` of `sh -c
 * SCRIPT` in the new entry; asserts that both exit 0.
 *
 * @returns What the script printed on stdout.
 */
export async function pullAndRunScript(
  store: string,
  ref: string,
  script: string,
): Promise<string> {
  const pulled = await runPolythene(["pull", "-q", "--store", store, ref]);
  assert.equal(pulled.code, 0, explain(pulled));
  const ran = await runPolythene([
    "exec",
    "--store",
    store,
    pulled.stdout.trim(),
    "--",
    "sh",
    "-c",
    script,
  ]);
  assert.equal(ran.code, 0, explain(ran));
  return ran.stdout;
}
