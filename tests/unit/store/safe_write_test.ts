import assert from "node:assert/strict";
import {
  UnsafeTargetError,
  writeFileNoFollow,
  writeFileNoFollowSync,
} from "../../../src/store/safe_write.ts";

async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-safe-write-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

for (const sync of [false, true]) {
  const write = sync
    // deno-lint-ignore require-await
    ? async (d: string, n: string, t: string) => writeFileNoFollowSync(d, n, t)
    : writeFileNoFollow;
  const label = sync ? "writeFileNoFollowSync" : "writeFileNoFollow";

  Deno.test(`${label} replaces a symlink instead of writing through it`, async () => {
    await inTemp(async (dir) => {
      await Deno.mkdir(`${dir}/d`);
      await Deno.writeTextFile(`${dir}/victim`, "keep\n");
      await Deno.symlink(`${dir}/victim`, `${dir}/d/name`);
      await write(`${dir}/d`, "name", "new\n");
      assert.equal(await Deno.readTextFile(`${dir}/victim`), "keep\n");
      assert.ok((await Deno.lstat(`${dir}/d/name`)).isFile);
      assert.equal(await Deno.readTextFile(`${dir}/d/name`), "new\n");
      assert.deepEqual(await names(`${dir}/d`), ["name"], "no temporary left");
    });
  });

  Deno.test(`${label} refuses a directory and a FIFO at the name, writing nothing`, async () => {
    await inTemp(async (dir) => {
      await Deno.mkdir(`${dir}/dir`);
      const made = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] })
        .output();
      assert.equal(made.code, 0);
      for (const [name, kind] of [["dir", "directory"], ["fifo", "FIFO"]]) {
        await assert.rejects(
          () => write(dir, name!, "x"),
          (error: unknown) =>
            error instanceof UnsafeTargetError && error.kind === kind &&
            error.exitCode === 1 && !error.message.includes("\n"),
        );
      }
      assert.deepEqual(await names(dir), ["dir", "fifo"]);
    });
  });
}

Deno.test("writeFileNoFollow takes one path component only", async () => {
  await inTemp(async (dir) => {
    for (const name of ["", ".", "..", "a/b"]) {
      await assert.rejects(() => writeFileNoFollow(dir, name, "x"), TypeError);
    }
  });
});
