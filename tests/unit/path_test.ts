import { assertEquals } from "../helpers/assert.ts";
import { absolutePath } from "../../src/path.ts";
import { which } from "../../src/process/which.ts";

Deno.test("absolutePath folds . and .. and resolves against the cwd", () => {
  const cwd = () => "/work/dir";
  const cases: [string, string][] = [
    ["/a/b/", "/a/b"],
    ["/a//b/./c", "/a/b/c"],
    ["/a/../../b", "/b"],
    ["store", "/work/dir/store"],
    ["./s/../t", "/work/dir/t"],
    ["../..", "/"],
    ["/", "/"],
  ];
  for (const [input, expected] of cases) {
    assertEquals(absolutePath(input, cwd), expected, input);
  }
});

Deno.test("which takes a relative PATH entry from the working directory, as Deno does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "polythene-which-" });
  try {
    await Deno.mkdir(`${dir}/bin`);
    await Deno.writeTextFile(`${dir}/bin/tool`, "#!/bin/sh\n", { mode: 0o755 });
    await Deno.chmod(`${dir}/bin/tool`, 0o755);
    const cwd = () => dir;
    assertEquals(which("tool", "bin:/usr/bin", cwd)?.path, `${dir}/bin/tool`);
    assertEquals(which("tool", "./bin/../bin", cwd)?.path, `${dir}/bin/tool`);
    assertEquals(which("tool", "/usr/bin", cwd), undefined);
    assertEquals(which("tool", "", cwd), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
