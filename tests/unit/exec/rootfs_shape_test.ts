import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { PolytheneError } from "../../../src/errors.ts";
import {
  checkRootfsShape,
  sandboxMountOf,
} from "../../../src/exec/rootfs_shape.ts";
import { mountPointInRoot } from "../../../src/exec/mount_point.ts";

async function withRoot(fn: (root: string) => void | Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "polythene-shape-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("paths under /proc, /dev and /sys are the sandbox's own mounts", () => {
  assertEquals(sandboxMountOf(["proc", "self", "fd", "3"]), "/proc");
  assertEquals(sandboxMountOf(["dev"]), "/dev");
  assertEquals(sandboxMountOf(["sys", "x"]), "/sys");
  assertEquals(sandboxMountOf(["process"]), undefined);
  assertEquals(sandboxMountOf(["srv", "proc"]), undefined);
  assertEquals(sandboxMountOf([]), undefined);
});

Deno.test("missing /proc, /dev and /tmp are created as directories", () =>
  withRoot((root) => {
    checkRootfsShape(root);
    for (
      const [name, mode] of [["proc", 0o555], ["dev", 0o755], [
        "tmp",
        0o1777,
      ]] as const
    ) {
      const info = Deno.lstatSync(`${root}/${name}`);
      assertEquals(info.isDirectory, true, name);
      assertEquals((info.mode ?? 0) & 0o7777, mode, name);
    }
  }));

Deno.test("a /proc, /dev or /tmp that is a file or a symlink is refused (exit 1)", () =>
  withRoot((root) => {
    for (const name of ["proc", "dev", "tmp"]) {
      const path = `${root}/${name}`;
      Deno.writeTextFileSync(path, "x");
      const error = assertThrows(() => checkRootfsShape(root), PolytheneError);
      assertEquals(error.exitCode, 1);
      Deno.removeSync(path);
      Deno.symlinkSync("/etc", path);
      assertThrows(() => checkRootfsShape(root), PolytheneError);
      Deno.removeSync(path);
      Deno.mkdirSync(path);
    }
    checkRootfsShape(root);
  }));

Deno.test("no mount point is made under /proc, even through a symlink", () =>
  withRoot((root) => {
    Deno.mkdirSync(`${root}/proc`);
    Deno.symlinkSync("/proc/self", `${root}/link`);
    for (const path of ["/proc/self/fd/3", "/link/x", "/dev/shm", "/sys"]) {
      const error = assertThrows(
        () => mountPointInRoot(root, path, "dir", "/bin/sh"),
        PolytheneError,
      );
      assertEquals(error.exitCode, 2, path);
    }
    assertEquals([...Deno.readDirSync(`${root}/proc`)], []);
    assertEquals(
      mountPointInRoot(root, "/srv/proc", "dir", "/bin/sh"),
      "/srv/proc",
    );
  }));
