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

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return Array.from(new Uint8Array(digest))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  await Deno.mkdir("dist", { recursive: true });
  const sums: string[] = [];
  for (const target of COMPILE_TARGETS) {
    const [program, ...args] = compileArgv(target);
    console.error(`$ ${[program, ...args].join(" ")}`);
    const status = await new Deno.Command(program!, { args }).spawn().status;
    if (!status.success) {
      console.error(`compile: deno compile failed for ${target}`);
      Deno.exit(status.code || 1);
    }
    const file = `polythene-${target}`;
    sums.push(`${await sha256(`dist/${file}`)}  ${file}`);
  }
  await Deno.writeTextFile("dist/SHA256SUMS", sums.join("\n") + "\n");
}
