/**
 * The library and the source from another project: a consumer made here in
 * a temporary directory, with no `deno.json` and with one of its own, imports
 * `src/mod.ts` by absolute path and by an `http://127.0.0.1:PORT/` URL
 * (served by a small file server here, with TypeScript's content type).
 * `deno check` passes, and its test pulls from a loopback registry and runs
 * a command with captured output. `deno run URL/main.ts` runs `--version`,
 * `pull` and `exec`.
 */

import assert from "node:assert/strict";
import { runCommand } from "../helpers/command.ts";
import { backendMissingAsRoot, testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import { busyboxEntries } from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { permissionFlags } from "../../src/permissions.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** Serves the repository's files over http on a loopback port. */
function serveRepo(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (
        path.includes("..") || !/^\/(main\.ts|src\/[\w/.-]+\.ts)$/.test(path)
      ) {
        return new Response("not found", { status: 404 });
      }
      try {
        const body = await Deno.readFile(`${REPO}${path.slice(1)}`);
        return new Response(body, {
          headers: { "content-type": "application/typescript" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

async function deno(
  cwd: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const result = await runCommand([Deno.execPath(), ...args], {
    cwd,
    env: { DENO_NO_UPDATE_CHECK: "1" },
  });
  return { code: result.code, out: result.stdout + result.stderr };
}

/** The consumer's test: a session pull and a captured exec. */
function consumerTest(modUrl: string, ref: string, store: string): string {
  return `import { PolytheneSession } from ${JSON.stringify(modUrl)};

Deno.test("polythene as a dependency", async () => {
  const session = new PolytheneSession({ store: ${JSON.stringify(store)} });
  const uuid = await session.pull(${JSON.stringify(ref)});
  const result = await session.exec(uuid, ["cat", "/hello"], { capture: true });
  if (result.stdout !== "from the registry\\n") {
    throw new Error("unexpected output: " + JSON.stringify(result));
  }
});
`;
}

testNeeding(
  registryMissing() ?? backendMissingAsRoot("bubblewrap"),
  "library: another project imports src/mod.ts by path and by URL",
  async (t) => {
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(["sh", "cat"]),
          { name: "hello", content: "from the registry\n" },
        ],
      }],
      config: { Env: ["PATH=/bin"] },
    });
    await pushImage(registry, "consumer/busybox", "1", image);
    const ref = `${registry.host}/consumer/busybox:1`;
    await using server = serveRepo();
    const base = `http://127.0.0.1:${server.addr.port}`;
    const top = await Deno.makeTempDir({ prefix: "polythene-consumer-" });
    try {
      const sources: [string, string, string[]][] = [
        ["path", `${REPO}src/mod.ts`, []],
        ["url", `${base}/src/mod.ts`, [
          `--allow-import=127.0.0.1:${server.addr.port}`,
        ]],
      ];
      for (const withConfig of [false, true]) {
        for (const [how, modUrl, extra] of sources) {
          const name = `${how}, ${
            withConfig ? "own deno.json" : "no deno.json"
          }`;
          await t.step(name, async () => {
            const dir = await Deno.makeTempDir({ dir: top });
            if (withConfig) {
              await Deno.writeTextFile(
                `${dir}/deno.json`,
                JSON.stringify({ imports: { "@local/x": "./x.ts" } }),
              );
              await Deno.writeTextFile(`${dir}/x.ts`, "export const x = 1;\n");
            }
            await Deno.writeTextFile(
              `${dir}/consumer_test.ts`,
              consumerTest(modUrl, ref, `${dir}/store`),
            );
            const check = await deno(dir, [
              "check",
              ...extra,
              "consumer_test.ts",
            ]);
            assert.equal(check.code, 0, check.out);
            // -A includes --allow-import (for every host).
            const test = await deno(dir, ["test", "-A", "consumer_test.ts"]);
            assert.equal(test.code, 0, test.out);
            assert.match(test.out, /1 passed/);
          });
        }
      }
      await t.step("deno run URL/main.ts: --version, pull, exec", async () => {
        const dir = await Deno.makeTempDir({ dir: top });
        const run = (...args: string[]) =>
          deno(dir, [
            "run",
            "--quiet",
            "--no-prompt",
            `--allow-import=127.0.0.1:${server.addr.port}`,
            ...permissionFlags(),
            `${base}/main.ts`,
            ...args,
          ]);
        const version = await run("--version");
        assert.equal(version.code, 0, version.out);
        assert.match(version.out, /^polythene \d+\.\d+\.\d+\n$/);
        const pulled = await run("pull", "-q", "--store", `${dir}/store`, ref);
        assert.equal(pulled.code, 0, pulled.out);
        const uuid = pulled.out.trim();
        const ran = await run(
          "exec",
          "--store",
          `${dir}/store`,
          uuid,
          "cat",
          "/hello",
        );
        assert.equal(ran.code, 0, ran.out);
        assert.equal(ran.out, "from the registry\n");
      });
    } finally {
      await Deno.remove(top, { recursive: true });
    }
  },
);
