/**
 * `deno task polythene` runs the source from the caller's directory, as the
 * binary runs: relative `--store`, `oci:DIR` and `--bind` paths given from a
 * subdirectory mean the same through the task and through the e2e runner.
 */

import assert from "node:assert/strict";
import { busyboxEntries } from "../../scripts/busybox_image.ts";
import { hostPlatform } from "../../src/image/platform.ts";
import { type CliResult, runPolythene } from "../helpers/cli.ts";
import { runCommand } from "../helpers/command.ts";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";

const REPO = new URL("../../", import.meta.url).pathname;

function viaTask(cwd: string, args: string[]): Promise<CliResult> {
  return runCommand(
    [
      Deno.execPath(),
      "task",
      "--config",
      `${REPO}deno.json`,
      "-q",
      "polythene",
      ...args,
    ],
    {
      cwd,
      // As a user's shell starts it: without the INIT_CWD of the `deno task
      // test` this suite may run under, which a nested task keeps.
      env: Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => k !== "INIT_CWD"),
      ),
      clearEnv: true,
    },
  );
}

testNeeding(
  onPath("bwrap") ? undefined : "bwrap on PATH",
  "relative paths from a subdirectory: the task and the runner agree",
  async () => {
    const top = await Deno.makeTempDir({ prefix: "polythene-paths-" });
    try {
      const work = `${top}/work`;
      await Deno.mkdir(`${work}/data`, { recursive: true });
      await Deno.writeTextFile(`${work}/data/f`, "from the caller's dir\n");
      const image = await buildImage({
        layers: [{ entries: await busyboxEntries(), compression: "gzip" }],
        config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] },
        platform: hostPlatform(),
      });
      await writeOciLayout(`${work}/img`, image, "latest");
      const runners: [string, (args: string[]) => Promise<CliResult>][] = [
        ["task", (args) => viaTask(work, args)],
        ["runner", (args) => runPolythene(args, { cwd: work })],
      ];
      for (const [name, run] of runners) {
        const store = `store-${name}`;
        const pulled = await run(["pull", "-q", "--store", store, "oci:img"]);
        assert.equal(pulled.code, 0, `${name}: ${pulled.stderr}`);
        const uuid = pulled.stdout.trim();
        const info = await Deno.stat(`${work}/${store}/${uuid}`);
        assert.ok(
          info.isDirectory,
          `${name}: the store is under the caller's dir`,
        );
        const ran = await run([
          "exec",
          "--store",
          store,
          "--bind",
          "data:/data:ro",
          uuid,
          "cat",
          "/data/f",
        ]);
        assert.equal(ran.code, 0, `${name}: ${ran.stderr}`);
        assert.equal(ran.stdout, "from the caller's dir\n", name);
      }
      // Nothing landed in the repository.
      for (const name of ["store-task", "store-runner"]) {
        await assert.rejects(
          Deno.lstat(`${REPO}${name}`),
          Deno.errors.NotFound,
        );
      }
    } finally {
      await Deno.remove(top, { recursive: true });
    }
  },
);

testNeeding(
  onPath("bwrap") ? undefined : "bwrap on PATH",
  "a relative PATH entry finds the program Deno allowed",
  async () => {
    const top = await Deno.makeTempDir({ prefix: "polythene-relpath-" });
    try {
      await Deno.mkdir(`${top}/bin`);
      await Deno.symlink("/bin/sh", `${top}/bin/sh`);
      const result = await runPolythene(["doctor", "--store", `${top}/store`], {
        cwd: top,
        path: `bin:${Deno.env.get("PATH")}`,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /internal error/);
      assert.match(result.stdout, new RegExp(`programs: \\S+ ${top}/bin/sh`));
    } finally {
      await Deno.remove(top, { recursive: true });
    }
  },
);

Deno.test("a program Deno does not allow is one clear line, not an internal error", async () => {
  const script = `
import { runCaptured } from "${REPO}src/process/spawn.ts";
try {
  await runCaptured(["/bin/false"], {});
} catch (error) {
  console.log(error.constructor.name + ": " + error.message);
  console.log("hint: " + error.hint);
}`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${REPO},${file}`,
      "--allow-run=/bin/true",
      file,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(file));
  const stdout = new TextDecoder().decode(out.stdout);
  assert.match(
    stdout,
    /^PolytheneError: Cannot run "\/bin\/false": polythene may start only the programs it found on PATH when it started\nhint: keep PATH the same/,
    new TextDecoder().decode(out.stderr),
  );
});
