/**
 * `polythene run` and `pull --reuse` through the real CLI, against a real
 * registry on loopback behind the fault proxy, whose request log shows what
 * each call asked the registry for: the first run pulls, the second asks
 * nothing, `--pull always` asks for the manifest again (and no layer),
 * `--pull never` with nothing stored fails with one line; a run that writes
 * leaves the entry unchanged; `pull --reuse` returns the stored entry until
 * the tag moves to another digest.
 *
 * Needs docker-registry; under `CI=true` a missing one fails instead of
 * skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault_proxy.ts";
import {
  assertPulled,
  busyboxEntries,
  entries,
  explain,
  tempStore,
} from "../helpers/pull_checks.ts";
import { PolytheneSession, run } from "../../src/mod.ts";

/** `KIND METHOD` of each request the proxy saw, pings left out. */
function asked(proxy: FaultProxy): string[] {
  return proxy.requests
    .filter((r) => r.kind !== "ping")
    .map((r) => `${r.kind} ${r.method}`);
}

testNeeding(
  registryMissing(),
  "run: pull when missing, then reuse",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const image = (hello: string) =>
      buildImage({
        layers: [{
          compression: "gzip",
          entries: [...busyboxEntries(), { name: "etc/", type: "dir" }, {
            name: "etc/hello",
            content: hello,
          }],
        }],
        config: { Env: ["PATH=/bin"] },
      });
    await pushImage(registry, "test/run", "1", await image("one\n"));
    const ref = `${proxy.host}/test/run:1`;
    await using files = await tempStore();
    const store = files.store;
    const polythene = (...args: string[]) =>
      runPolythene(["run", "-q", "--store", store, ...args]);
    let base = "";

    await t.step(
      "--pull never with nothing stored: one line, exit 1",
      async () => {
        proxy.clear();
        const result = await polythene("--pull", "never", ref, "--", "true");
        assert.equal(result.code, 1, explain(result));
        assert.match(
          result.stderr,
          /^polythene: No entry pulled from "[^"]+test\/run:1" in the store .*--pull never\n$/,
        );
        assert.deepEqual(asked(proxy), [], "the registry is not contacted");
        assert.deepEqual(await entries(store), []);
      },
    );

    await t.step("the first run pulls; a write stays in its copy", async () => {
      proxy.clear();
      const result = await polythene(
        ref,
        "--",
        "sh",
        "-c",
        "echo changed > /etc/hello; cat /etc/hello; exit 7",
      );
      assert.equal(result.code, 7, explain(result));
      assert.equal(result.stdout, "changed\n");
      assert.ok(asked(proxy).includes("blob GET"), asked(proxy).join(", "));
      const stored = await entries(store);
      assert.equal(stored.length, 1, "one entry; the copy is gone");
      base = stored[0]!;
      assert.equal(
        await Deno.readTextFile(`${store}/${base}/etc/hello`),
        "one\n",
      );
    });

    await t.step("the second run asks the registry nothing", async () => {
      proxy.clear();
      // Not quiet: with nothing to pull and no terminal, nothing is printed.
      const result = await runPolythene(
        ["run", "--store", store, ref, "--", "cat", "/etc/hello"],
      );
      assert.equal(result.code, 0, explain(result));
      assert.equal(result.stdout, "one\n");
      assert.equal(result.stderr, "");
      assert.deepEqual(asked(proxy), []);
      assert.deepEqual(await entries(store), [base]);
    });

    await t.step(
      "--pull always asks for the manifest, and no layer",
      async () => {
        proxy.clear();
        const result = await polythene("--pull", "always", ref, "--", "echo");
        assert.equal(result.code, 0, explain(result));
        assert.ok(
          asked(proxy).includes("manifest GET"),
          asked(proxy).join(", "),
        );
        assert.ok(!asked(proxy).includes("blob GET"), asked(proxy).join(", "));
        assert.deepEqual(await entries(store), [base]);
      },
    );

    await t.step("the library's run uses the stored entry", async () => {
      proxy.clear();
      const result = await run(ref, ["cat", "/etc/hello"], {
        store,
        pull: "never",
        capture: true,
      });
      assert.deepEqual([result.code, result.stdout], [0, "one\n"]);
      const session = new PolytheneSession({ store });
      const again = await session.run(ref, ["cat", "/etc/hello"], {
        capture: true,
      });
      assert.deepEqual([again.code, again.stdout], [0, "one\n"]);
      assert.deepEqual(asked(proxy), []);
    });

    await t.step(
      "pull --reuse: the same entry, until the digest moves",
      async () => {
        const pull = (...args: string[]) =>
          runPolythene(["pull", "-q", "--store", store, ...args, ref]);
        assert.equal(assertPulled(await pull("--reuse")), base);
        const second = assertPulled(await pull());
        assert.notEqual(second, base, "without --reuse, a new entry");
        await pushImage(registry, "test/run", "1", await image("two\n"));
        const moved = assertPulled(await pull("--reuse"));
        assert.ok(![base, second].includes(moved), "a new digest, a new entry");
        assert.equal(
          await Deno.readTextFile(`${store}/${moved}/etc/hello`),
          "two\n",
        );
        const result = await polythene(ref, "--", "cat", "/etc/hello");
        assert.equal(result.stdout, "two\n", "run takes the newest entry");
      },
    );
  },
);
