import assert from "node:assert/strict";
import {
  diskModeOf,
  imageId,
  recordedOwners,
} from "../../../../src/image/commit/owners.ts";
import { deviceNumbers } from "../../../../src/image/commit/entry_tree.ts";

const info = (uid: number, mode: number) =>
  ({ uid, gid: uid, mode }) as unknown as Deno.FileInfo;

Deno.test("imageId: the user is root, the first subordinate range counts from 1", () => {
  const ranges = [{ start: 100000, count: 65536 }];
  assert.equal(imageId(1000, 1000, ranges), 0);
  assert.equal(imageId(100000, 1000, ranges), 1);
  assert.equal(imageId(100099, 1000, ranges), 100);
  assert.equal(imageId(65534, 1000, ranges), 65534);
});

Deno.test("recordedOwners: a record wins while the mode on disk is extraction's", () => {
  const owners = recordedOwners(
    {
      "/usr/bin/su": { uid: 0, gid: 0, mode: 0o4755 },
      "/home/app": { uid: 1000, gid: 1000, mode: 0o500 },
    },
    { uid: 1000, gid: 1000, uids: [], gids: [] },
  );
  assert.deepEqual(owners("usr/bin/su", info(1000, 0o755), "file"), {
    uid: 0,
    gid: 0,
    mode: 0o4755,
  });
  // chmod'ed since the pull: the new mode, the recorded owner.
  assert.deepEqual(owners("usr/bin/su", info(1000, 0o700), "file"), {
    uid: 0,
    gid: 0,
    mode: 0o700,
  });
  assert.deepEqual(owners("home/app", info(1000, 0o700), "dir"), {
    uid: 1000,
    gid: 1000,
    mode: 0o500,
  });
  assert.deepEqual(owners("new/file", info(1000, 0o644), "file"), {
    uid: 0,
    gid: 0,
    mode: 0o644,
  });
  assert.equal(diskModeOf(0o2555, true), 0o755);
});

Deno.test("deviceNumbers splits st_rdev as glibc does", () => {
  assert.deepEqual(deviceNumbers(0x0103), [1, 3]);
  assert.deepEqual(deviceNumbers(0x0880), [8, 128]);
  assert.deepEqual(deviceNumbers(0x10300), [259, 0]);
  assert.deepEqual(deviceNumbers(0x100300), [3, 256]);
});
