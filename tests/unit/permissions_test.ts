import { assertEquals } from "../helpers/assert.ts";
import {
  COMPILE_TARGETS,
  compileArgv,
  permissionFlags,
} from "../../src/permissions.ts";

const denoJson = JSON.parse(
  await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
);

Deno.test("the permission list is named, never -A", () => {
  const flags = permissionFlags();
  assertEquals(flags.some((f) => f === "-A" || f === "--allow-all"), false);
  assertEquals(
    flags[0],
    "--allow-run=bwrap,cp,docker-credential-desktop,docker-credential-ecr-login," +
      "docker-credential-gcloud,docker-credential-pass," +
      "docker-credential-secretservice,mknod,podman,proot,sh,unshare",
  );
});

Deno.test("the polythene task runs the source with exactly that list", () => {
  assertEquals(
    denoJson.tasks.polythene,
    `deno run --quiet --no-prompt ${permissionFlags().join(" ")} main.ts`,
  );
});

Deno.test("the compile argv builds both linux-gnu targets with the same list", () => {
  assertEquals(COMPILE_TARGETS, [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
  ]);
  assertEquals(compileArgv("x86_64-unknown-linux-gnu"), [
    "deno",
    "compile",
    "--quiet",
    "--no-prompt",
    ...permissionFlags(),
    "--target",
    "x86_64-unknown-linux-gnu",
    "--output",
    "dist/polythene-x86_64-unknown-linux-gnu",
    "main.ts",
  ]);
});

Deno.test("deno.json keeps strict type checks", () => {
  assertEquals(denoJson.compilerOptions.strict, true);
  assertEquals(denoJson.compilerOptions.noUncheckedIndexedAccess, true);
});
