import assert from "node:assert/strict";
import {
  fullMapsMissing,
  parseSubIds,
  userName,
} from "../../../src/process/subids.ts";

Deno.test("subordinate ranges by name or uid; others and junk ignored", () => {
  const text = "# c\nalice:100000:65536\nbob:200000:65536\n1001:300000:10\n" +
    "alice:x:1\nalice:400000:0\n";
  assert.deepEqual(parseSubIds(text, "alice", 1000), [
    { start: 100000, count: 65536 },
  ]);
  assert.deepEqual(parseSubIds(text, "carol", 1001), [
    { start: 300000, count: 10 },
  ]);
  assert.deepEqual(parseSubIds(text, undefined, 5), []);
  assert.equal(
    userName("root:x:0:0::/root:/bin/sh\na:x:7:7::/:/bin/sh", 7),
    "a",
  );
});

Deno.test("full maps need the helpers, unshare and both ranges", () => {
  const range = [{ start: 100000, count: 65536 }];
  const ok = {
    user: "a",
    uids: range,
    gids: range,
    unshare: "/usr/bin/unshare",
    newuidmap: "/usr/bin/newuidmap",
    newgidmap: "/usr/bin/newgidmap",
  };
  assert.equal(fullMapsMissing(ok), undefined);
  assert.match(fullMapsMissing({ ...ok, newgidmap: undefined })!, /newuidmap/);
  assert.match(
    fullMapsMissing({ ...ok, gids: [] })!,
    /a has no range in \/etc\/subgid/,
  );
});
