/**
 * `exec` is the hot path. Before `main.ts` runs, Deno reads the graph of
 * every static import and of every `import()` with a literal specifier;
 * these tests walk the same edges in `deno info --json` (code edges, static
 * and dynamic; type-only references are not loaded at run time) and check
 * what exec's start-up would read: no npm package, no `node:` built-in, and
 * no other command's module.
 */

import { assertEquals } from "../../helpers/assert.ts";
import { COMMANDS } from "../../../src/cli/table.ts";
import {
  BACKEND_MODULES,
  backendModuleFiles,
} from "../../../src/backends/backend_modules.ts";
import { BACKEND_NAMES } from "../../../src/backends/names.ts";
import { execLazyFiles } from "../../../src/exec/exec_modules.ts";

const ROOT = new URL("../../../", import.meta.url);

/** The parts of `deno info --json` the walk reads. */
interface GraphInfo {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string } }[];
  }[];
  redirects?: Record<string, string>;
}

/**
 * Every module Deno loads at run time from `roots`: code edges only, static
 * and dynamic, through redirects; npm: and node: modules are listed but not
 * entered. Pure.
 */
function runtimeModules(
  info: GraphInfo,
  roots: readonly string[],
): Set<string> {
  const byName = new Map(info.modules.map((m) => [m.specifier, m]));
  const redirects = info.redirects ?? {};
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    let specifier = queue.pop()!;
    while (redirects[specifier] !== undefined) {
      specifier = redirects[specifier]!;
    }
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of byName.get(specifier)?.dependencies ?? []) {
      if (dep.code !== undefined) queue.push(dep.code.specifier);
    }
  }
  return seen;
}

async function loaded(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as GraphInfo;
  const root = new URL(entry, ROOT).href;
  return [...runtimeModules(info, [root])].map((s) =>
    s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : s
  ).sort();
}

const foreign = (modules: string[]) =>
  modules.filter((m) => m.startsWith("npm:") || m.startsWith("node:"));

const commandModule = (name: string) => `src/cli/${name}.ts`;

Deno.test("runtimeModules follows code edges and redirects, not type-only ones", () => {
  const info: GraphInfo = {
    modules: [
      {
        specifier: "file:///a.ts",
        dependencies: [
          { code: { specifier: "file:///b.ts" } },
          {}, // a type-only reference: no code edge
          { code: { specifier: "npm:x" } },
        ],
      },
      {
        specifier: "file:///b.ts",
        dependencies: [{ code: { specifier: "file:///a.ts" } }],
      },
      { specifier: "npm:/x@1.0.0", dependencies: [] },
    ],
    redirects: { "npm:x": "npm:/x@1.0.0" },
  };
  assertEquals([...runtimeModules(info, ["file:///a.ts"])].sort(), [
    "file:///a.ts",
    "file:///b.ts",
    "npm:/x@1.0.0",
  ]);
});

Deno.test("main.ts loads no command's module before it runs", async () => {
  const modules = await loaded("main.ts");
  assertEquals(foreign(modules), []);
  for (const command of COMMANDS) {
    assertEquals(
      modules.includes(commandModule(command.name)),
      false,
      `${commandModule(command.name)} is read by every command`,
    );
  }
  // Sanity: the walk saw the dispatcher.
  assertEquals(modules.includes("src/cli/main.ts"), true, modules.join(" "));
});

Deno.test("exec's start-up graph has no npm, no node: and no other command's modules", async () => {
  const modules = [
    ...new Set([
      ...await loaded("main.ts"),
      ...await loaded("src/cli/exec.ts"),
    ]),
  ];
  assertEquals(foreign(modules), []);
  assertEquals(modules.includes("src/exec/exec.ts"), true, modules.join(" "));
  const others = COMMANDS.map((c) => c.name).filter((n) => n !== "exec");
  for (const name of others) {
    assertEquals(modules.includes(commandModule(name)), false, name);
  }
  // exec --ephemeral's copy and removal load only when asked for.
  for (const lazy of ["src/exec/ephemeral.ts", "src/store/clone.ts"]) {
    assertEquals(modules.includes(lazy), false, lazy);
  }
});

Deno.test("exec's start-up graph holds no backend's module: the fallback loop loads the one it reaches", async () => {
  const modules = [
    ...new Set([
      ...await loaded("main.ts"),
      ...await loaded("src/cli/exec.ts"),
    ]),
  ];
  // Sanity: the walk reached the fallback loop and the loader.
  assertEquals(
    modules.includes("src/backends/run.ts"),
    true,
    modules.join(" "),
  );
  assertEquals(modules.includes("src/backends/backend_modules.ts"), true);
  const backends = backendModuleFiles();
  assertEquals(backends.length, BACKEND_NAMES.length);
  for (const file of backends) {
    assertEquals(
      modules.includes(file),
      false,
      `${file} is read by every exec`,
    );
  }
  // Nor what only proot imports.
  assertEquals(modules.includes("src/backends/proot_compat.ts"), false);
});

Deno.test("modules only rare runs need stay out of exec's graph, bubblewrap's included", async () => {
  const modules = [
    ...new Set([
      ...await loaded("main.ts"),
      ...await loaded("src/cli/exec.ts"),
      ...await loaded("src/backends/bubblewrap.ts"),
    ]),
  ];
  // Sanity: the walk reached the id map's shell and bubblewrap's id map.
  assertEquals(modules.includes("src/exec/id_map_run.ts"), true);
  assertEquals(modules.includes("src/backends/id_map_bwrap.ts"), true);
  for (const rare of execLazyFiles()) {
    assertEquals(
      modules.includes(rare),
      false,
      `${rare} is read by every exec`,
    );
  }
});

Deno.test("each backend's own graph holds no other backend's module", async () => {
  for (const name of BACKEND_NAMES) {
    const modules = await loaded(`src/backends/${BACKEND_MODULES[name]}`);
    for (const other of BACKEND_NAMES.filter((n) => n !== name)) {
      const file = `src/backends/${BACKEND_MODULES[other]}`;
      assertEquals(modules.includes(file), false, `${name} loads ${file}`);
    }
  }
});
