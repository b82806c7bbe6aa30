/**
 * Strings from an image, a layer's tar or a registry reach the terminal with
 * their control characters escaped: no raw ESC (or C1 CSI) byte on stdout
 * or stderr of `inspect`, `list`, `pull` and `exec --verbose`, in text or
 * JSON, and the escaped form is shown instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import {
  assertPulled,
  busyboxEntries,
  explain,
  tempStore,
} from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import type { CliResult } from "../helpers/cli.ts";

/** Clears the screen and sets the window title, if printed raw. */
const EVIL = "\x1b[2J\x1b]0;pwned\x07";
/** The C1 control CSI. */
const CSI = "\x9b";

function assertNoControls(result: CliResult, what: string): void {
  for (
    const [stream, text] of [["stdout", result.stdout], [
      "stderr",
      result.stderr,
    ]]
  ) {
    assert.ok(
      // deno-lint-ignore no-control-regex -- matching controls is the point
      !/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text!),
      `${what}: a raw control character on ${stream}\n${explain(result)}`,
    );
  }
}

Deno.test(
  "escape: Env, labels and Cmd of an image are escaped by inspect, list and exec --verbose",
  async () => {
    await using files = await tempStore();
    const layout = `${files.dir}/layout`;
    const image = await buildImage({
      layers: [{ compression: "gzip", entries: busyboxEntries(["true"]) }],
      config: {
        Env: ["PATH=/bin", `EVIL=${EVIL}`],
        // Shown by exec --verbose in the backend's argv (--chdir).
        WorkingDir: "/srv/\x1b[2Jwd",
        Cmd: ["/bin/true", `${CSI}2J`],
        Labels: { note: `${EVIL}${CSI}` },
      },
    });
    await writeOciLayout(layout, image, "evil");
    const pulled = await runPolythene(
      ["pull", "-q", "--store", files.store, `oci:${layout}:evil`],
    );
    const uuid = assertPulled(pulled);

    const inspect = await runPolythene([
      "inspect",
      "--store",
      files.store,
      uuid,
    ]);
    assert.equal(inspect.code, 0, explain(inspect));
    assertNoControls(inspect, "inspect");
    assert.match(inspect.stdout, /EVIL=\\x1b\[2J\\x1b\]0;pwned\\x07/);
    assert.match(inspect.stdout, /\\u\{9b\}2J/);

    const json = await runPolythene(
      ["inspect", "--json", "--store", files.store, uuid],
    );
    assert.equal(json.code, 0, explain(json));
    assertNoControls(json, "inspect --json");
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual(parsed.config.Cmd, ["/bin/true", `${CSI}2J`]);

    for (const args of [["list"], ["list", "--json"]]) {
      const list = await runPolythene([...args, "--store", files.store]);
      assert.equal(list.code, 0, explain(list));
      assertNoControls(list, args.join(" "));
    }

    const exec = await runPolythene(
      ["exec", "-v", "--store", files.store, uuid, "--", "true"],
    );
    assert.equal(exec.code, 0, explain(exec));
    assertNoControls(exec, "exec --verbose");
    // Values are redacted; the image's WorkingDir shows, escaped.
    assert.match(exec.stderr, / EVIL=<redacted>/);
    assert.match(exec.stderr, /--chdir \/srv\/\\x1b\[2Jwd /);
  },
);

Deno.test("escape: a tar member's name in a pull error is escaped", async () => {
  await using files = await tempStore();
  const layout = `${files.dir}/layout`;
  const image = await buildImage({
    layers: [{
      compression: "none",
      entries: [{ name: `../${EVIL}${CSI}`, content: "x" }],
    }],
  });
  await writeOciLayout(layout, image, "evil");
  const result = await runPolythene(
    ["pull", "--store", files.store, `oci:${layout}:evil`],
  );
  assert.notEqual(result.code, 0, explain(result));
  assertNoControls(result, "pull");
  assert.match(result.stderr, /\\x1b\[2J/, explain(result));
});

testNeeding(
  registryMissing(),
  "escape: a registry's error message is escaped, also with --verbose",
  async () => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const image = await buildImage({
      layers: [{ compression: "gzip", entries: busyboxEntries(["true"]) }],
    });
    await pushImage(registry, "test/evil", "1", image);
    proxy.plan({
      rules: [{
        match: { kind: "manifest" },
        fault: {
          type: "status",
          status: 404,
          body: JSON.stringify({
            errors: [{ code: "MANIFEST_UNKNOWN", message: `gone${EVIL}` }],
          }),
        },
      }],
    });
    await using files = await tempStore();
    for (const verbose of [[], ["-v"]]) {
      const result = await runPolythene(
        [
          "pull",
          ...verbose,
          "--store",
          files.store,
          `${proxy.host}/test/evil:1`,
        ],
      );
      assert.notEqual(result.code, 0, explain(result));
      assertNoControls(result, `pull ${verbose.join(" ")}`);
      assert.match(result.stderr, /gone\\x1b\[2J/, explain(result));
    }
  },
);
