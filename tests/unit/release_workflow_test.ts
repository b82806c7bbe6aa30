/**
 * The release workflow, read as GitHub would read it: valid YAML, a build
 * job that installs only Deno, a publish job that needs the tests, and only
 * scripts that exist.
 */

import { parse } from "yaml";
import { assertEquals } from "../helpers/assert.ts";
import { versionProblem } from "../../scripts/check_version.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = new URL("../../", import.meta.url);

interface Step {
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

async function workflow(name: string): Promise<Workflow> {
  return parse(
    await Deno.readTextFile(new URL(`.github/workflows/${name}`, ROOT)),
  ) as Workflow;
}

function runs(job: Job): string {
  return job.steps.map((s) => s.run ?? "").join("\n");
}

Deno.test("release: build installs only Deno, publish needs build and test", async () => {
  const release = await workflow("release.yml");
  assertEquals(Object.keys(release.jobs).sort(), ["build", "publish", "test"]);
  const build = release.jobs.build!;
  assertEquals(runs(build).includes("setup.sh"), false);
  assertEquals(runs(build).includes("scripts/install_deno.sh"), true);
  assertEquals(runs(build).includes("scripts/check_version.ts"), true);
  assertEquals(runs(build).includes("deno task compile"), true);
  assertEquals(release.jobs.test!.needs, "build");
  assertEquals([release.jobs.publish!.needs].flat().sort(), ["build", "test"]);
  assertEquals(
    release.jobs.publish!.if,
    "startsWith(github.ref, 'refs/tags/v')",
  );
  assertEquals(
    Object.keys(release.on).sort(),
    ["pull_request", "push", "workflow_dispatch"],
  );
});

Deno.test("release: the e2e suite runs against the x86_64 binary", async () => {
  const test = (await workflow("release.yml")).jobs.test!;
  const e2e = test.steps.find((s) => s.run?.includes("tests/e2e/"));
  assertEquals(
    e2e?.env?.POLYTHENE_BIN?.endsWith(
      "/dist/polythene-x86_64-unknown-linux-gnu",
    ),
    true,
  );
  assertEquals(e2e?.env?.CI, "true");
  assertEquals(
    runs(test).includes(
      "scripts/smoke_binary.sh dist/polythene-aarch64-unknown-linux-gnu",
    ),
    true,
  );
});

Deno.test("release: the log shows the binaries' size and start-up", async () => {
  const release = await workflow("release.yml");
  const build = runs(release.jobs.build!);
  assertEquals(build.includes("ls -l dist/"), true);
  assertEquals(
    /time .*\.\/dist\/polythene-x86_64-unknown-linux-gnu --version/s.test(
      build,
    ),
    true,
  );
  const steps = release.jobs.test!.steps;
  const startup = steps.findIndex((s) =>
    s.run?.includes(
      "scripts/binary_startup.sh dist/polythene-x86_64-unknown-linux-gnu",
    )
  );
  const setup = steps.findIndex((s) => s.run?.includes("scripts/setup.sh"));
  assertEquals(setup >= 0 && startup > setup, true, "after the set-up");
});

Deno.test("workflows call only scripts that exist", async () => {
  for (const name of ["release.yml", "ci.yml"]) {
    const parsed = await workflow(name);
    for (const job of Object.values(parsed.jobs)) {
      for (
        const path of runs(job).matchAll(
          /(?:^|\s)((?:scripts|\.ci)\/[\w.\/-]+)/g,
        )
      ) {
        const info = await Deno.stat(new URL(path[1]!, ROOT)).catch(() =>
          undefined
        );
        assertEquals(info?.isFile, true, `${name}: ${path[1]}`);
      }
    }
  }
});

Deno.test("the version is the same in deno.json, src/version.ts and the tag", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  assertEquals(versionProblem(config.version, VERSION), undefined);
  assertEquals(
    versionProblem(config.version, VERSION, `v${VERSION}`),
    undefined,
  );
  assertEquals(
    versionProblem("0.1.0", "0.1.0", "v0.2.0"),
    'the tag "v0.2.0" is not v0.1.0, the version in deno.json and src/version.ts',
  );
  assertEquals(
    versionProblem("0.2.0", "0.1.0"),
    'deno.json has version "0.2.0" but src/version.ts has "0.1.0"',
  );
});
