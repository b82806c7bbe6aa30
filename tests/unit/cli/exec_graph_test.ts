/**
 * `exec` is the hot path: every npm package and `node:` built-in in its
 * module graph costs start-up time on every run. The graphs of the exec
 * command and of the parser and help that the dispatcher imports statically
 * must hold only this repository's own modules.
 */

import { assertEquals } from "../../helpers/assert.ts";

const ROOT = new URL("../../../", import.meta.url);

async function foreignModules(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  return graph.modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith("file:")
  );
}

Deno.test("exec's module graph has no npm package and no node: built-in", async () => {
  for (
    const entry of ["src/cli/exec.ts", "src/cli/parse.ts", "src/cli/help.ts"]
  ) {
    assertEquals(await foreignModules(entry), [], entry);
  }
});
