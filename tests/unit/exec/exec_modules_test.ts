import { assertEquals } from "../../helpers/assert.ts";
import {
  EXEC_LAZY_MODULES,
  execLazyFiles,
  loadExecLazy,
} from "../../../src/exec/exec_modules.ts";

Deno.test("the rare modules are paths from the repository root, and exist", async () => {
  assertEquals(execLazyFiles(), [
    "src/backends/seccomp.ts",
    "src/process/subids.ts",
    "src/backends/emulation_host.ts",
    "src/backends/binfmt_host.ts",
  ]);
  for (const file of execLazyFiles()) {
    const info = await Deno.stat(new URL(`../../../${file}`, import.meta.url));
    assertEquals(info.isFile, true, file);
  }
});

Deno.test("loadExecLazy loads the module its name says", async () => {
  const seccomp = await loadExecLazy<
    typeof import("../../../src/backends/seccomp.ts")
  >(
    "seccomp",
  );
  assertEquals(typeof seccomp.fakeOwnershipFilter, "function");
  assertEquals(seccomp.SECCOMP_FD, 5);
  const subids = await loadExecLazy<
    typeof import("../../../src/process/subids.ts")
  >(
    "subids",
  );
  assertEquals(typeof subids.detectFullMapHost, "function");
  const emulation = await loadExecLazy<
    typeof import("../../../src/backends/emulation_host.ts")
  >("emulationHost");
  assertEquals(typeof emulation.detectEmulation, "function");
  const binfmt = await loadExecLazy<
    typeof import("../../../src/backends/binfmt_host.ts")
  >("binfmtHost");
  assertEquals(typeof binfmt.withPrivateBinfmtIfPossible, "function");
  assertEquals(Object.keys(EXEC_LAZY_MODULES).length, 4);
});
