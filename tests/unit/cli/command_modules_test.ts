import { assertEquals } from "../../helpers/assert.ts";
import {
  COMMAND_MODULES,
  commandModuleUrl,
  LAZY_MODULES,
  lazyModuleFiles,
} from "../../../src/cli/command_modules.ts";
import { COMMANDS } from "../../../src/cli/table.ts";

Deno.test("every command in the table has a module, and nothing else does", () => {
  assertEquals(
    Object.keys(COMMAND_MODULES).sort(),
    COMMANDS.map((c) => c.name).sort(),
  );
});

Deno.test("a command's module URL is its file beside the dispatcher", () => {
  assertEquals(
    commandModuleUrl("exec"),
    new URL("../../../src/cli/exec.ts", import.meta.url).href,
  );
});

Deno.test("the lazily loaded files are paths from the repository root, and exist", async () => {
  const files = lazyModuleFiles();
  assertEquals(files.includes("src/cli/pull.ts"), true);
  assertEquals(files.includes("src/exec/ephemeral.ts"), true);
  assertEquals(files.includes("src/cli/progress.ts"), true);
  assertEquals(
    files.length,
    Object.keys(COMMAND_MODULES).length + Object.keys(LAZY_MODULES).length,
  );
  for (const file of files) {
    const info = await Deno.stat(new URL(`../../../${file}`, import.meta.url));
    assertEquals(info.isFile, true, file);
  }
});
