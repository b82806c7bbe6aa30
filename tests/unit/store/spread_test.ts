import assert from "node:assert/strict";
import { spreadArgv, spreadEntries } from "../../../src/store/spread.ts";
import { createStaging, stagingRoot } from "../../../src/store/staging.ts";
import { runRoot } from "../../../src/store/run_dir.ts";

Deno.test("spreadArgv: chattr +T, the path after --", () => {
  assert.deepEqual(spreadArgv("-x/+T"), ["chattr", "+T", "--", "-x/+T"]);
});

Deno.test("spreadEntries: runs chattr once per directory, says why it could not", async () => {
  const calls: string[][] = [];
  const lines: string[] = [];
  const failing = (argv: readonly string[]) => {
    calls.push([...argv]);
    return Promise.resolve({
      code: 1,
      stdout: "",
      stderr: "chattr: Operation not supported while reading flags on /x\n",
    });
  };
  const dir = `/nonexistent/spread-${crypto.randomUUID()}`;
  assert.equal(await spreadEntries(dir, (l) => lines.push(l), failing), false);
  assert.equal(await spreadEntries(dir, (l) => lines.push(l), failing), false);
  assert.equal(calls.length, 1, "the first answer is kept");
  assert.deepEqual(lines, [
    "new entries are not spread over block groups (chattr +T): " +
    "chattr: Operation not supported while reading flags on /x",
  ]);
  const thrown = () => Promise.reject(new Error("chattr: not allowed"));
  const other = `${dir}-2`;
  assert.equal(await spreadEntries(other, (l) => lines.push(l), thrown), false);
  assert.match(lines.at(-1)!, /not spread .*chattr: not allowed/);
});

Deno.test("createStaging asks once for +T on the staging and run roots, and says how it went", async () => {
  const store = await Deno.makeTempDir({ prefix: "polythene-spread-" });
  try {
    const lines: string[] = [];
    for (let i = 0; i < 2; i++) {
      const staging = await createStaging(
        store,
        crypto.randomUUID(),
        (l) => lines.push(l),
      );
      await staging.discard();
    }
    // On ext4 it worked; elsewhere (a tmpfs /tmp) chattr said why not.
    assert.equal(lines.length, 2, lines.join("\n"));
    const roots = [stagingRoot(store), runRoot(store)];
    lines.forEach((line, i) => {
      assert.match(line, /^new entries are (not )?spread over block groups/);
      assert.ok(line.includes(roots[i]!), line);
    });
  } finally {
    await Deno.remove(store, { recursive: true });
  }
});
