import assert from "node:assert/strict";
import {
  createdRecordPath,
  readCreated,
  recordCreated,
  removeCreated,
} from "../../../src/store/created_paths.ts";

Deno.test("recordCreated appends to the entry's record; removeCreated drops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "polythene-created-" });
  try {
    const store = `${dir}/store`;
    const uuid = "0190a0b0-0000-7000-8000-00000000000a";
    await Deno.mkdir(`${store}/.polythene`, { recursive: true, mode: 0o700 });
    recordCreated(`${store}/${uuid}`, ["/etc/resolv.conf"]);
    recordCreated(`${store}/${uuid}/`, ["/made", "/made/here"]);
    assert.deepEqual(
      [...await readCreated(store, uuid)],
      ["etc/resolv.conf", "made", "made/here"],
    );
    assert.equal(
      (await Deno.stat(createdRecordPath(store, uuid))).mode! & 0o077,
      0,
    );
    await removeCreated(store, uuid);
    assert.deepEqual([...await readCreated(store, uuid)], []);
    // A rootfs outside a store (no state directory) gets no record.
    recordCreated(`${dir}/loose`, ["/x"]);
    await assert.rejects(Deno.lstat(`${dir}/.polythene`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
