import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import {
  createHeld,
  mountPointInRoot,
  recordMountPoints,
} from "../../../src/exec/mount_point.ts";
import { which } from "../../../src/process/which.ts";

const SH = which("sh", Deno.env.get("PATH") ?? "/usr/bin:/bin")!.path;

function tree(): { root: string; outside: string; cleanup(): void } {
  const base = Deno.realPathSync(Deno.makeTempDirSync());
  Deno.mkdirSync(`${base}/root/a`, { recursive: true });
  Deno.mkdirSync(`${base}/outside`);
  return {
    root: `${base}/root`,
    outside: `${base}/outside`,
    cleanup: () => Deno.removeSync(base, { recursive: true }),
  };
}

Deno.test("mount points: missing parts are made inside the rootfs, symlinks resolved in it", () => {
  const t = tree();
  try {
    Deno.symlinkSync(t.outside, `${t.root}/link`);
    assertEquals(mountPointInRoot(t.root, "/a/b/c", "dir", SH), "/a/b/c");
    assertEquals(Deno.statSync(`${t.root}/a/b/c`).isDirectory, true);
    // An absolute link resolves inside the rootfs, never to the host's path.
    const file = mountPointInRoot(t.root, "/link/f", "file", SH);
    assertEquals(file, `${t.outside}/f`);
    assertEquals(Deno.statSync(`${t.root}${t.outside}/f`).isFile, true);
    assertEquals([...Deno.readDirSync(t.outside)], []);
  } finally {
    t.cleanup();
  }
});

Deno.test("createHeld refuses a component that is now a symlink, and creates nothing", () => {
  const t = tree();
  try {
    // As if another run swapped `a` for a link to the host after the walk.
    Deno.removeSync(`${t.root}/a`);
    Deno.symlinkSync(t.outside, `${t.root}/a`);
    for (const kind of ["dir", "file"] as const) {
      const error = assertThrows(
        () => createHeld(SH, t.root, ["a"], "x", kind),
        Error,
      );
      assertIncludes(error.message, "changed while it was being prepared");
    }
    assertEquals([...Deno.readDirSync(t.outside)], []);
    createHeld(SH, t.root, [], "y", "file");
    assertEquals(Deno.statSync(`${t.root}/y`).isFile, true);
    // An existing name is never reused (O_EXCL), even a dangling link.
    Deno.symlinkSync(`${t.outside}/z`, `${t.root}/z`);
    assertThrows(() => createHeld(SH, t.root, [], "z", "file"), Error);
    assertEquals([...Deno.readDirSync(t.outside)], []);
  } finally {
    t.cleanup();
  }
});

Deno.test("mount points: a recorder (overlay runs) resolves links but creates nothing", () => {
  const t = tree();
  try {
    Deno.symlinkSync("/a", `${t.root}/link`);
    const made: { kind: "dir" | "file"; path: string }[] = [];
    const resolved = mountPointInRoot(
      t.root,
      "/link/new/file",
      "file",
      recordMountPoints(made),
    );
    assertEquals(resolved, "/a/new/file");
    assertEquals(made, [
      { kind: "dir", path: "/a/new" },
      { kind: "file", path: "/a/new/file" },
    ]);
    assertEquals([...Deno.readDirSync(`${t.root}/a`)], []);
  } finally {
    t.cleanup();
  }
});
