import { assertEquals } from "../helpers/assert.ts";
import { applyEdit, summary } from "../../scripts/mutants.ts";
import { MUTANTS } from "../../scripts/_mutants_list.ts";

Deno.test("mutants: an edit applies only where its text occurs exactly once", () => {
  assertEquals(applyEdit("a b c", "b", "x"), { text: "a x c" });
  assertEquals(applyEdit("a b c", "z", "x"), { why: "search text not found" });
  assertEquals(applyEdit("b b", "b", "x"), {
    why: "search text found more than once",
  });
});

Deno.test("mutants: not applicable counts as survived", () => {
  assertEquals(
    summary([
      { kind: "killed", by: "t.ts" },
      { kind: "survived" },
      { kind: "not applicable", why: "moved" },
    ]),
    "1 killed, 2 survived",
  );
});

Deno.test("mutants: names are unique, each edit changes its text and names tests", () => {
  const names = MUTANTS.map((m) => m.name);
  assertEquals(new Set(names).size, names.length);
  for (const m of MUTANTS) {
    assertEquals(m.search !== m.replace, true, m.name);
    assertEquals(m.tests.length > 0, true, m.name);
  }
});
