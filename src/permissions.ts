/**
 * The one permission list: used by the `polythene` task, the compile task and
 * the tests that run the CLI. Never `-A`.
 *
 * @module
 */

import { runnablePrograms } from "./backends/mod.ts";

/** Environment variables polythene reads. */
export const ENV_VARS = [
  "POLYTHENE_STORE",
  "POLYTHENE_ISOLATION",
  "POLYTHENE_VERBOSE",
  "PATH",
  "TERM",
  "TMPDIR",
] as const;

/**
 * Deno permission flags for the CLI: `--allow-run` names only what the
 * backends declare they spawn; read and write are unscoped because the store
 * is chosen at run time; env is the list above.
 */
export function permissionFlags(): string[] {
  return [
    `--allow-run=${runnablePrograms().join(",")}`,
    "--allow-read",
    "--allow-write",
    `--allow-env=${ENV_VARS.join(",")}`,
    "--allow-sys=uid,osRelease",
  ];
}

/** Targets of the compile task. */
export const COMPILE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
] as const;

/** The `deno compile` argv for one target. Pure. */
export function compileArgv(target: string): string[] {
  return [
    "deno",
    "compile",
    "--no-prompt",
    ...permissionFlags(),
    "--target",
    target,
    "--output",
    `dist/polythene-${target}`,
    "main.ts",
  ];
}
