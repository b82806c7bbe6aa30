import { assertEquals } from "../../helpers/assert.ts";
import { runAttached, runCaptured } from "../../../src/process/spawn.ts";

/** Runs `argv` through runAttached, capturing its output. */
async function attached(
  argv: string[],
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
) {
  let out = "";
  const result = await runAttached(argv, {
    env,
    ...options,
    capture: {
      collect(stdout) {
        out = new TextDecoder().decode(stdout);
      },
    },
  });
  return { ...result, out };
}

Deno.test("runAttached: the child gets exactly the given environment", async () => {
  // Set in this process: none of it may reach the child.
  Deno.env.set("POLYTHENE_SPAWN_LEAK", "leaked");
  try {
    const { code, out } = await attached(["/usr/bin/env"], { ONLY: "this" });
    assertEquals(code, 0);
    assertEquals(out, "ONLY=this\n");
  } finally {
    Deno.env.delete("POLYTHENE_SPAWN_LEAK");
  }
});

Deno.test("runCaptured: the child gets exactly the given environment", async () => {
  Deno.env.set("POLYTHENE_SPAWN_LEAK", "leaked");
  try {
    const result = await runCaptured(["/usr/bin/env"], { ONLY: "this" });
    assertEquals(result.code, 0);
    assertEquals(result.stdout, "ONLY=this\n");
  } finally {
    Deno.env.delete("POLYTHENE_SPAWN_LEAK");
  }
});

Deno.test("runAttached: a timeout kills with SIGKILL, which no trap stops", async () => {
  // The child ignores SIGTERM and reports that it runs before it waits.
  const script = "trap '' TERM; echo running; exec sleep 5";
  const result = await attached(["/bin/sh", "-c", script], {
    PATH: "/usr/bin:/bin",
  }, { timeoutMs: 300 });
  assertEquals(result.out, "running\n");
  assertEquals(result.timedOut, true);
  assertEquals(result.code, 137);
});
