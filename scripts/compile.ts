/**
 * `deno task compile`: one binary per target into `dist/`, with the single
 * permission list from `src/permissions.ts`, then `dist/SHA256SUMS`.
 *
 * This needs `denort` for each target, which `deno compile` downloads; on a
 * machine that cannot reach it the task fails at that step.
 *
 * @module
 */

import { COMPILE_TARGETS, compileArgv } from "../src/permissions.ts";

/**
 * Writes `dir/SHA256SUMS` for `files` (names inside `dir`), one `HEX  NAME`
 * line each as `sha256sum` writes them, so `sha256sum -c` checks it.
 */
export async function writeChecksums(
  dir: string,
  files: readonly string[],
): Promise<void> {
  const lines: string[] = [];
  for (const file of files) {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      await Deno.readFile(`${dir}/${file}`),
    );
    const hex = Array.from(new Uint8Array(digest))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    lines.push(`${hex}  ${file}`);
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, lines.join("\n") + "\n");
}

if (import.meta.main) {
  await Deno.mkdir("dist", { recursive: true });
  for (const target of COMPILE_TARGETS) {
    const [program, ...args] = compileArgv(target);
    console.error(`$ ${[program, ...args].join(" ")}`);
    const status = await new Deno.Command(program!, { args }).spawn().status;
    if (!status.success) {
      console.error(`compile: deno compile failed for ${target}`);
      Deno.exit(status.code || 1);
    }
  }
  await writeChecksums(
    "dist",
    COMPILE_TARGETS.map((target) => `polythene-${target}`),
  );
}
