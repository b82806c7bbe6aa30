import { planWhiteout } from "../../../src/image/layers/mod.ts";
import { assertEquals } from "../../helpers/assert.ts";

const plan = (path: string) => planWhiteout(path.split("/"));

Deno.test("planWhiteout: ordinary entries", () => {
  assertEquals(plan("etc/passwd"), { kind: "none" });
  assertEquals(plan("etc/wh.x"), { kind: "none" });
  assertEquals(plan("etc/x.wh.y"), { kind: "none" });
});

Deno.test("planWhiteout: .wh.NAME removes NAME in its directory", () => {
  assertEquals(plan("etc/.wh.passwd"), {
    kind: "remove",
    dir: ["etc"],
    name: "passwd",
  });
  assertEquals(plan(".wh.etc"), { kind: "remove", dir: [], name: "etc" });
  assertEquals(plan("a/.wh....x"), {
    kind: "remove",
    dir: ["a"],
    name: "...x",
  });
});

Deno.test("planWhiteout: the opaque marker", () => {
  assertEquals(plan("opt/app/.wh..wh..opq"), {
    kind: "opaque",
    dir: ["opt", "app"],
  });
  assertEquals(plan(".wh..wh..opq"), { kind: "opaque", dir: [] });
});

Deno.test("planWhiteout: AUFS metadata is ignored", () => {
  assertEquals(plan(".wh..wh.plnk"), { kind: "ignore" });
  assertEquals(plan("x/.wh..wh.aufs"), { kind: "ignore" });
});

Deno.test("planWhiteout: whiteouts of nothing, . or .. are invalid", () => {
  for (const path of [".wh.", "a/.wh..", "a/.wh..."]) {
    assertEquals(plan(path).kind, "invalid", path);
  }
});
