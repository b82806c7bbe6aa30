import { assertEquals } from "../../helpers/assert.ts";
import {
  planEntry,
  PULL_POLICIES,
} from "../../../src/image/entry_for_image.ts";
import { findCommand } from "../../../src/cli/table.ts";

Deno.test("--pull missing uses a stored entry and pulls without one", () => {
  assertEquals(planEntry("missing", "u1"), { action: "use", uuid: "u1" });
  assertEquals(planEntry("missing", undefined), {
    action: "pull",
    reuse: false,
  });
});

Deno.test("--pull always lets the registry's digest decide", () => {
  assertEquals(planEntry("always", "u1"), { action: "pull", reuse: true });
  assertEquals(planEntry("always", undefined), { action: "pull", reuse: true });
});

Deno.test("--pull never uses a stored entry or fails", () => {
  assertEquals(planEntry("never", "u1"), { action: "use", uuid: "u1" });
  assertEquals(planEntry("never", undefined), { action: "fail" });
});

Deno.test("the table offers exactly the policies", () => {
  const option = findCommand("run")!.options.find((o) => o.name === "pull")!;
  assertEquals(option.choices, PULL_POLICIES);
  assertEquals(option.default, "missing");
});
