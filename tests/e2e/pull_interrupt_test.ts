/**
 * Interrupted pulls, through the real CLI against a real registry behind
 * the fault proxy, with a 64 MiB layer: SIGINT mid-download exits 130 and
 * leaves neither an entry nor a staging directory; SIGKILL at random points
 * never leaves a visible entry that is incomplete, and the next pull sweeps
 * what the killed ones left; `--timeout 1` on a slow pull exits 124 with no
 * entry.
 *
 * Needs docker-registry; under `CI=true` a missing one fails instead of
 * skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type CliResult, runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { type FaultPlan, startFaultProxy } from "../helpers/fault_proxy.ts";
import {
  assertCacheConsistent,
  assertEntry,
  assertFailed,
  assertPulled,
  entries,
  explain,
  noise,
  readMetadata,
  stagingLeftovers,
  tempStore,
} from "../helpers/pull_checks.ts";

const MISSING = registryMissing();
const BIG = 64 << 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A proxy plan that sends the blob at `path` in 64 KiB pieces, `ms` apart
 * (about 6 MiB/s at 10 ms), and calls `onStart` when it begins.
 */
function throttle(path: string, ms: number, onStart = () => {}): FaultPlan {
  return {
    hook: async (request, { kind, forward }) => {
      if (kind !== "blob" || new URL(request.url).pathname !== path) return;
      const response = await forward(request);
      if (response.body === null) return response;
      onStart();
      const slow = new TransformStream<Uint8Array, Uint8Array>({
        async transform(chunk, controller) {
          for (let at = 0; at < chunk.length; at += 65536) {
            controller.enqueue(chunk.slice(at, at + 65536));
            await sleep(ms);
          }
        },
      });
      return new Response(response.body.pipeThrough(slow), {
        status: response.status,
        headers: response.headers,
      });
    },
  };
}

/** Runs a pull and sends `signal` when `when` resolves. */
async function pullWithSignal(
  args: string[],
  signal: Deno.Signal,
  when: Promise<unknown>,
): Promise<CliResult> {
  let pid = 0;
  const running = runPolythene(args, { onStart: (p) => pid = p });
  let done = false;
  running.finally(() => done = true).catch(() => {});
  await Promise.race([when, running]);
  if (!done) Deno.kill(pid, signal);
  return await running;
}

testNeeding(
  MISSING,
  "pull: interrupted pulls leave no entry",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const content = noise(BIG);
    const digest = `sha256:${
      createHash("sha256").update(content).digest("hex")
    }`;
    const image = await buildImage({
      layers: [
        { compression: "none", entries: [{ name: "big", content }] },
        {
          compression: "gzip",
          entries: [{ name: "done", content: "complete\n" }],
        },
      ],
    });
    await pushImage(registry, "test/big", "1", image);
    const ref = `${proxy.host}/test/big:1`;
    const bigPath = `/v2/test/big/blobs/${image.layers[0]!.descriptor.digest}`;

    /** Asserts a visible entry is whole: metadata, every file, its content. */
    const assertComplete = async (store: string, uuid: string) => {
      const meta = await readMetadata(store, uuid);
      assert.equal(meta.digest, image.digest, `${uuid} has metadata`);
      assert.equal(
        await Deno.readTextFile(`${store}/${uuid}/done`),
        "complete\n",
      );
      const got = createHash("sha256")
        .update(await Deno.readFile(`${store}/${uuid}/big`))
        .digest("hex");
      assert.equal(`sha256:${got}`, digest, `${uuid}/big is whole`);
    };

    await t.step("SIGINT mid-download exits 130 and cleans up", async () => {
      await using files = await tempStore();
      let started!: () => void;
      const downloading = new Promise<void>((r) => started = r);
      proxy.plan(throttle(bigPath, 10, () => started()));
      const result = await pullWithSignal(
        ["pull", "-q", "--store", files.store, ref],
        "SIGINT",
        downloading.then(() => sleep(300)),
      );
      proxy.plan({});
      await assertFailed(result, {
        store: files.store,
        image: ref,
        code: 130,
        matches: /interrupt/i,
      });
      await assertCacheConsistent(files.store);
    });

    await t.step("--timeout 1 on a slow pull exits 124", async () => {
      await using files = await tempStore();
      // Throttled, the pull would outlast runPolythene's 120 s safety kill
      // (exit 137), so 124 shows the timeout ended it.
      proxy.plan(throttle(bigPath, 10));
      const result = await runPolythene(
        ["pull", "-q", "--timeout", "1", "--store", files.store, ref],
      );
      proxy.plan({});
      await assertFailed(result, {
        store: files.store,
        image: ref,
        code: 124,
        matches: /timed out/i,
      });
      await assertCacheConsistent(files.store);
    });

    await t.step(
      "SIGKILL at random points never shows a partial entry",
      async () => {
        await using files = await tempStore();
        const store = files.store;
        const began = Date.now();
        const first = assertPulled(
          await runPolythene(["pull", "-q", "--store", store, ref]),
        );
        const span = Date.now() - began;
        await assertComplete(store, first);
        const delays = [0.1, 0.3, 0.5, 0.7, 0.9].map((f) =>
          Math.round(span * (f + (Math.random() - 0.5) * 0.2))
        );
        // Each pull sweeps what the killed ones before it left.
        const leftovers = new Set<string>();
        for (const [i, delay] of delays.entries()) {
          if (i === 1) {
            // Once without the cache: killed while downloading.
            await Deno.remove(`${store}/.polythene/blobs`, { recursive: true });
          }
          const result = await pullWithSignal(
            ["pull", "-q", "--store", store, ref],
            "SIGKILL",
            sleep(delay),
          );
          assert.ok(
            result.code === 137 || result.code === 0,
            `killed or done (after ${delay} ms)\n${explain(result)}`,
          );
          for (const uuid of await entries(store)) {
            await assertComplete(store, uuid);
          }
          for (const name of await stagingLeftovers(store)) {
            leftovers.add(name);
          }
        }
        assert.ok(leftovers.size > 0, "a killed pull left a staging directory");
        const before = await entries(store);
        const last = assertPulled(
          await runPolythene(["pull", "-q", "--store", store, ref]),
        );
        assert.deepEqual(await entries(store), [...before, last].sort());
        await assertEntry(store, last, { image: ref, digest: image.digest });
        await assertComplete(store, last);
        assert.deepEqual(
          await stagingLeftovers(store),
          [],
          "the last pull swept every killed pull's staging directory",
        );
      },
    );
  },
);
