/**
 * Steps that drive polythene as a library: a small TypeScript script that
 * imports `src/mod.ts` runs under `deno run` with exactly the compiled
 * binary's permission flags (`--no-prompt`, so a missing permission is an
 * error, not a prompt).
 *
 * @module
 */

import { Given, When } from "@cucumber/cucumber";
import { permissionFlags } from "../../src/permissions.ts";
import { buildImage, writeOciLayout } from "../../tests/helpers/oci_image.ts";
import { busyboxEntries, tempStore } from "../../tests/helpers/pull_checks.ts";
import { fillPlaceholders } from "./_command_line.ts";
import type { PolytheneWorld } from "./world.ts";

const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Given<PolytheneWorld>(
  "an OCI image layout holding a busybox image",
  async function () {
    const files = await tempStore();
    this.defer(() => files.cleanup());
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: busyboxEntries(["sh", "echo", "touch", "uname"]),
      }],
      config: { Env: ["PATH=/bin"] },
    });
    await writeOciLayout(`${files.dir}/layout`, image, "1");
    this.extraPlaceholders = {
      ...this.extraPlaceholders,
      dir: files.dir,
      store: files.store,
      image: `oci:${files.dir}/layout:1`,
      module: `${REPO}/src/mod.ts`,
    };
  },
);

When<PolytheneWorld>(
  "a TypeScript script runs with the compile permissions:",
  async function (script: string) {
    const values = this.placeholders();
    const file = `${values.dir}/script.ts`;
    await Deno.writeTextFile(file, fillPlaceholders(script, values));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        `--config=${REPO}/deno.json`,
        ...permissionFlags(),
        file,
      ],
      cwd: values.dir,
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    this.result = {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  },
);
