import { assertEquals } from "../../helpers/assert.ts";
import {
  BACKEND_MODULES,
  backendModuleFiles,
  backendModuleUrl,
  loadBackend,
} from "../../../src/backends/backend_modules.ts";
import { BACKEND_NAMES } from "../../../src/backends/names.ts";
import { BACKENDS } from "../../../src/backends/mod.ts";

Deno.test("every backend name has a module, and nothing else does", () => {
  assertEquals(Object.keys(BACKEND_MODULES).sort(), [...BACKEND_NAMES].sort());
});

Deno.test("a backend's module URL is its file in src/backends", () => {
  assertEquals(
    backendModuleUrl("proot"),
    new URL("../../../src/backends/proot.ts", import.meta.url).href,
  );
});

Deno.test("loadBackend returns the very backend the registry lists", async () => {
  for (const name of BACKEND_NAMES) {
    const backend = await loadBackend(name);
    assertEquals(backend.name, name);
    assertEquals(backend === BACKENDS.find((b) => b.name === name), true, name);
  }
});

Deno.test("the backends' files are paths from the repository root, and exist", async () => {
  const files = backendModuleFiles();
  assertEquals(files, [
    "src/backends/bubblewrap.ts",
    "src/backends/proot.ts",
    "src/backends/chroot.ts",
  ]);
  for (const file of files) {
    const info = await Deno.stat(new URL(`../../../${file}`, import.meta.url));
    assertEquals(info.isFile, true, file);
  }
});
