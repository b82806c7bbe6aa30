import { assertEquals } from "../helpers/assert.ts";
import { CORE_E2E, slowE2e } from "../../scripts/test.ts";

const E2E = new URL("../e2e/", import.meta.url).pathname;

Deno.test("every core e2e file exists", () => {
  for (const name of CORE_E2E) {
    assertEquals(Deno.statSync(`${E2E}${name}`).isFile, true, name);
  }
});

Deno.test("the slow e2e files are every other test file, each once", () => {
  const slow = slowE2e(E2E);
  const all = [...Deno.readDirSync(E2E)]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith("_test.ts"))
    .sort();
  assertEquals([...slow, ...CORE_E2E].sort(), all);
  assertEquals(slow.includes("exec_corpus_test.ts"), true);
  assertEquals(slow.includes("run_test.ts"), false);
  // The issue 12 round trip (apt, podman: about a minute) is slow; the
  // commit and push progress checks (seconds) are core.
  assertEquals(slow.includes("push_roundtrip_debian_test.ts"), true);
  assertEquals(slow.includes("output_commit_push_test.ts"), false);
});
