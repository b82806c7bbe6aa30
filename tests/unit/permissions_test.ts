import { assertEquals } from "../helpers/assert.ts";
import {
  COMPILE_ONLY_FLAGS,
  COMPILE_TARGETS,
  compileArgv,
  compileIncludes,
  permissionFlags,
  polytheneTask,
  runFlags,
} from "../../src/permissions.ts";
import { cliArgv } from "../helpers/cli.ts";

const denoJson = JSON.parse(
  await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
);

Deno.test("the permission list is named, never -A", () => {
  const flags = permissionFlags();
  assertEquals(flags.some((f) => f === "-A" || f === "--allow-all"), false);
  assertEquals(
    flags[0],
    "--allow-run=bwrap,chattr,cp,docker-credential-desktop,docker-credential-ecr-login," +
      "docker-credential-gcloud,docker-credential-pass," +
      "docker-credential-secretservice,mknod,perl,podman,proot,script,setpriv,sh,unshare",
  );
});

Deno.test("the polythene task runs the source with exactly that list, from the caller's directory", () => {
  assertEquals(denoJson.tasks.polythene, polytheneTask());
  assertEquals(
    polytheneTask(),
    `R=$(pwd) && cd "$INIT_CWD" && deno run --config "$R/deno.json" ` +
      `--quiet --no-prompt ${permissionFlags().join(" ")} "$R/main.ts"`,
  );
});

Deno.test("the compile argv builds both linux-gnu targets with the same list", () => {
  assertEquals(COMPILE_TARGETS, [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
  ]);
  assertEquals(COMPILE_ONLY_FLAGS, ["--no-code-cache", "--exclude-unused-npm"]);
  assertEquals(compileArgv("x86_64-unknown-linux-gnu"), [
    "deno",
    "compile",
    "--no-code-cache",
    "--exclude-unused-npm",
    "--quiet",
    "--no-prompt",
    ...permissionFlags(),
    "--target",
    "x86_64-unknown-linux-gnu",
    "--output",
    "dist/polythene-x86_64-unknown-linux-gnu",
    ...compileIncludes(),
    "main.ts",
  ]);
});

Deno.test("the compile argv includes every lazily loaded module, which exists", async () => {
  const includes = compileIncludes();
  const files = includes.filter((_, i) => i % 2 === 1);
  assertEquals(
    includes.filter((_, i) => i % 2 === 0).every((f) => f === "--include"),
    true,
  );
  for (
    const command of [
      "pull",
      "exec",
      "list",
      "inspect",
      "rm",
      "prune",
      "clone",
      "doctor",
      "completions",
    ]
  ) {
    assertEquals(files.includes(`src/cli/${command}.ts`), true, command);
  }
  assertEquals(files.includes("src/exec/ephemeral.ts"), true);
  // exec loads the backend it uses through a computed specifier too.
  for (const backend of ["bubblewrap", "proot", "chroot"]) {
    assertEquals(files.includes(`src/backends/${backend}.ts`), true, backend);
  }
  // And what only rare runs of exec load.
  for (
    const rare of [
      "src/backends/seccomp.ts",
      "src/process/subids.ts",
      "src/backends/emulation_host.ts",
    ]
  ) {
    assertEquals(files.includes(rare), true, rare);
  }
  for (const file of files) {
    const info = await Deno.stat(new URL(`../../${file}`, import.meta.url));
    assertEquals(info.isFile, true, file);
  }
});

Deno.test("deno.json keeps strict type checks", () => {
  assertEquals(denoJson.compilerOptions.strict, true);
  assertEquals(denoJson.compilerOptions.noUncheckedIndexedAccess, true);
});

Deno.test("the e2e suite runs the source with exactly the compile flags", () => {
  const source = "/src/polythene";
  const argv = cliArgv(source, ""); // "": no binary, whatever the env says
  assertEquals(argv, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...permissionFlags(),
    "/src/polythene/main.ts",
  ]);
  // The same flags, in the same order, as the binary bakes in.
  const compiled = compileArgv("x86_64-unknown-linux-gnu");
  assertEquals(argv.slice(2, -1), runFlags());
  assertEquals(
    compiled.slice(2 + COMPILE_ONLY_FLAGS.length, compiled.indexOf("--target")),
    runFlags(),
  );
  assertEquals(argv.includes("-A") || argv.includes("--allow-all"), false);
});

Deno.test("with POLYTHENE_BIN the binary alone is the CLI under test", () => {
  assertEquals(cliArgv("/src/polythene", "/opt/polythene"), [
    "/opt/polythene",
  ]);
});
