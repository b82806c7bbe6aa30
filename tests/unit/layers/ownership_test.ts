import { OwnershipTable } from "../../../src/image/layers/mod.ts";
import { assertEquals } from "../../helpers/assert.ts";

Deno.test("OwnershipTable: set, replace, clear and sorted JSON", () => {
  const table = new OwnershipTable();
  table.set("/usr/bin/su", { uid: 0, gid: 0, mode: 0o4755 });
  table.set("/home/u", { uid: 1000, gid: 1000, mode: 0o700 });
  table.set("/home/u", { uid: 1001, gid: 1001, mode: 0o700 });
  table.set("/", { uid: 0, gid: 0, mode: 0o555 });
  table.set("/not/there", undefined);
  assertEquals(table.size, 3);
  assertEquals(table.get("/home/u"), { uid: 1001, gid: 1001, mode: 0o700 });
  assertEquals(Object.keys(table.toJSON()), ["/", "/home/u", "/usr/bin/su"]);
  table.set("/usr/bin/su", undefined);
  assertEquals(table.size, 2);
  assertEquals(table.get("/usr/bin/su"), undefined);
});

Deno.test("OwnershipTable: deleteTree removes a path and everything below", () => {
  const table = new OwnershipTable();
  for (const path of ["/a", "/a/b", "/a/b/c", "/ab", "/z"]) {
    table.set(path, { uid: 1, gid: 1, mode: 0o644 });
  }
  table.deleteTree("/a");
  assertEquals(Object.keys(table.toJSON()), ["/ab", "/z"]);
  assertEquals(table.size, 2);
  table.deleteTree("/missing/x");
  table.deleteTree("/");
  assertEquals(table.size, 0);
});
