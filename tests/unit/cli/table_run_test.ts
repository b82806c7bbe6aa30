import assert from "node:assert/strict";
import { assertEquals } from "../../helpers/assert.ts";
import { COMMANDS, findCommand } from "../../../src/cli/table.ts";
import { runCommandSpec } from "../../../src/cli/table_run.ts";
import type { CommandSpec } from "../../../src/cli/table_options.ts";
import { parseCommandLine } from "../../../src/cli/parse.ts";

const names = (spec: CommandSpec) => spec.options.map((o) => o.name);

Deno.test("run takes every exec option but --ephemeral, and pull's", () => {
  const run = findCommand("run")!;
  for (const name of names(findCommand("exec")!)) {
    if (name !== "ephemeral") assert(names(run).includes(name), name);
  }
  assert(!names(run).includes("ephemeral"));
  for (const name of ["platform", "puller", "tls-verify", "quiet"]) {
    assert(names(run).includes(name), name);
  }
  assert(!names(run).includes("reuse"));
  assertEquals(new Set(names(run)).size, names(run).length, "no duplicates");
});

Deno.test("an option added to exec applies to run", () => {
  const exec = findCommand("exec")!;
  const more = {
    ...exec,
    options: [...exec.options, {
      name: "keep",
      type: "boolean" as const,
      help: "keep",
    }],
  };
  const run = runCommandSpec(COMMANDS.map((c) => c.name === "exec" ? more : c));
  assert(names(run).includes("keep"));
});

Deno.test("run parses exec options, --pull and the command", () => {
  const parsed = parseCommandLine(
    ["run", "-e", "A=1", "--pull", "never", "busybox", "--", "sh", "-c", "x"],
    () => undefined,
  );
  if (parsed.kind !== "run") throw new Error(`parsed as ${parsed.kind}`);
  assertEquals(parsed.command, "run");
  assertEquals(parsed.positionals, ["busybox"]);
  assertEquals(parsed.rest, ["sh", "-c", "x"]);
  assertEquals(parsed.values.env, ["A=1"]);
  assertEquals(parsed.values.pull, "never");
});

Deno.test("exec's module graph holds neither run nor the puller", async () => {
  const root = new URL("../../../", import.meta.url);
  for (const entry of ["src/cli/exec.ts", "src/cli/parse.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
    };
    const local = graph.modules.map((m) => m.specifier);
    for (
      const module of [
        "src/cli/run.ts",
        "src/image/entry_for_image.ts",
        "src/image/reuse.ts",
        "src/image/pull.ts",
      ]
    ) {
      assert(
        !local.includes(new URL(module, root).href),
        `${entry}: ${module}`,
      );
    }
    assert(local.includes(new URL(entry, root).href), "the graph was read");
  }
});
