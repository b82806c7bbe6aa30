/**
 * `polythene pull` against the internet's failure modes, through the real
 * CLI and the fault proxy in front of a real registry: Bearer tokens
 * (anonymous, and with credentials from `REGISTRY_AUTH_FILE`), 404, 429
 * with Retry-After, 500s, a connection reset mid-blob, a server ignoring
 * `Range`, a redirect to a second host, tampered and truncated blobs, an
 * oversized manifest; and a TLS registry with htpasswd. Each either
 * succeeds or fails with exit 1 and one line naming the image, leaving no
 * entry and no staging directory behind. Every case uses a fresh store, so
 * the blob cache never hides a fault.
 *
 * Needs docker-registry, openssl and perl; under `CI=true` a missing one
 * fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  basicAuth,
  type Credentials,
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  type Fault,
  type FaultPlan,
  type Match,
  startFaultProxy,
} from "../helpers/fault_proxy.ts";
import {
  assertCacheConsistent,
  assertEntry,
  assertFailed,
  assertPulled,
  explain,
  noise,
  tempStore,
} from "../helpers/pull_checks.ts";

const CREDENTIALS: Credentials = { user: "tester", password: "s3cret pass" };
const MISSING = registryMissing({ tls: true, htpasswd: CREDENTIALS });
const BIG = 1 << 20;

/** An auth file (containers-auth.json) holding `credentials` for `host`. */
async function authFile(dir: string, host: string, credentials: Credentials) {
  const path = `${dir}/auth.json`;
  const auth = basicAuth(credentials).slice("Basic ".length);
  await Deno.writeTextFile(
    path,
    JSON.stringify({ auths: { [host]: { auth } } }),
  );
  return path;
}

testNeeding(
  MISSING,
  "pull: registry faults end in success or one clear error",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const image = await buildImage({
      layers: [
        {
          compression: "gzip",
          entries: [{ name: "etc/", type: "dir" }, {
            name: "etc/hello",
            content: "hello\n",
          }],
        },
        {
          compression: "none",
          entries: [{ name: "big", content: noise(BIG) }],
        },
      ],
      config: { Env: ["PATH=/bin"] },
    });
    await pushImage(registry, "test/faulty", "1", image);
    const ref = `${proxy.host}/test/faulty:1`;
    const big = image.layers[1]!.descriptor.digest;
    const bigBlob: Match = {
      kind: "blob",
      path: `/v2/test/faulty/blobs/${big}`,
    };

    /** Pulls `ref` under `plan` into a fresh store; checks the outcome. */
    const pullUnder = async (
      plan: FaultPlan,
      expect: "ok" | RegExp,
      env: Record<string, string> = {},
    ) => {
      await using files = await tempStore();
      proxy.plan(plan);
      proxy.clear();
      const result = await runPolythene(
        ["pull", "-q", "--store", files.store, ref],
        { env },
      );
      proxy.plan({});
      await assertCacheConsistent(files.store);
      if (expect === "ok") {
        const uuid = assertPulled(result);
        await assertEntry(files.store, uuid, {
          image: ref,
          digest: image.digest,
        });
        const got = await Deno.readFile(`${files.store}/${uuid}/big`);
        assert.equal(got.length, BIG);
      } else {
        await assertFailed(result, {
          store: files.store,
          image: ref,
          matches: expect,
        });
        assert.doesNotMatch(
          result.stderr,
          /fault-proxy-[0-9a-f-]{36}/,
          "no token",
        );
      }
      return result;
    };
    const bigGets = () => proxy.requests.filter((r) => r.path === bigBlob.path);

    /** A plan of one fault on the big blob (or on `match`). */
    const on = (fault: Fault, times?: number, match: Match = bigBlob) => ({
      rules: [{ match, fault, ...(times ? { times } : {}) }],
    });
    const manifest: Match = { kind: "manifest" };

    await t.step("401 Bearer with an anonymous token", async () => {
      await pullUnder({ bearer: {} }, "ok");
      assert.ok(proxy.tokens.length >= 1, "a token was issued");
      const authed = proxy.requests.filter((r) =>
        r.headers.authorization?.startsWith("Bearer fault-proxy-")
      );
      assert.ok(authed.some((r) => r.kind === "blob"), "blobs sent the token");
    });

    await t.step(
      "401 Bearer, credentials from REGISTRY_AUTH_FILE",
      async () => {
        await using files = await tempStore();
        const file = await authFile(files.dir, proxy.host, CREDENTIALS);
        const plan = { bearer: { credentials: CREDENTIALS } };
        await pullUnder(plan, "ok", { REGISTRY_AUTH_FILE: file });
        const token = proxy.requests.filter((r) => r.kind === "token");
        assert.ok(
          token.some((r) => r.headers.authorization === basicAuth(CREDENTIALS)),
          "the token endpoint got the credentials",
        );
      },
    );

    await t.step("401 Bearer without the credentials it needs", async () => {
      await pullUnder(
        { bearer: { credentials: CREDENTIALS } },
        /requires a login/,
      );
    });

    await t.step("404 on the manifest", async () => {
      await pullUnder(on({ type: "status", status: 404 }, 0, manifest), /404/);
    });

    await t.step("429 with Retry-After, then success", async () => {
      const started = Date.now();
      const fault: Fault = { type: "status", status: 429, retryAfter: 1 };
      await pullUnder(on(fault, 1, manifest), "ok");
      assert.ok(Date.now() - started >= 1000, "waited as Retry-After asked");
      const manifests = proxy.requests.filter((r) => r.kind === "manifest");
      assert.deepEqual(manifests.map((r) => r.status).slice(0, 2), [429, 200]);
    });

    await t.step("500 twice, then success", async () => {
      await pullUnder(on({ type: "status", status: 500 }, 2), "ok");
      assert.equal(bigGets().filter((r) => r.status === 500).length, 2);
    });

    await t.step("a connection reset mid-blob resumes with Range", async () => {
      await pullUnder(on({ type: "reset", afterBytes: 300_000 }, 1), "ok");
      assert.ok(bigGets().length >= 2, "the blob was asked for again");
      assert.match(bigGets().at(-1)!.headers.range ?? "", /^bytes=[1-9]\d*-$/);
    });

    await t.step("a server that ignores Range", async () => {
      await pullUnder({
        rules: [
          ...on({ type: "reset", afterBytes: 300_000 }, 1).rules,
          ...on({ type: "ignore-range" }).rules,
        ],
      }, "ok");
      const gets = bigGets();
      assert.ok(gets.length >= 2 && gets.at(-1)!.status === 200);
    });

    await t.step(
      "a redirect to another host gets no Authorization",
      async () => {
        await pullUnder({
          bearer: {},
          ...on({ type: "redirect" }, 0, { kind: "blob" }),
        }, "ok");
        const redirected = proxy.redirected();
        assert.ok(redirected.length >= 2, "blobs came from the second host");
        for (const request of redirected) {
          assert.equal(request.headers.authorization, undefined, request.path);
          assert.equal(request.status, 200);
        }
        assert.match(bigGets()[0]?.headers.authorization ?? "", /^Bearer /);
      },
    );

    await t.step("a tampered blob fails its digest", async () => {
      await pullUnder(on({ type: "tamper" }), /does not match its digest/);
    });

    await t.step("a truncated blob: another size than stated", async () => {
      // The server states a size other than the descriptor's: no retry.
      await pullUnder(
        on({ type: "truncate", keepBytes: 1000 }, 1),
        /is 1000 bytes at the registry/,
      );
      assert.equal(bigGets().length, 1);
    });

    for (const chunked of [false, true]) {
      const how = chunked ? "without" : "with";
      await t.step(`an oversized manifest ${how} Content-Length`, async () => {
        await pullUnder(
          on({ type: "oversize", chunked }, 0, manifest),
          /manifest is larger than 4194304 bytes/,
        );
      });
    }
  },
);

testNeeding(
  MISSING,
  "pull: a TLS registry with htpasswd, --tls-verify=false and an auth file",
  async (t) => {
    await using registry = await startRegistry({
      tls: true,
      htpasswd: CREDENTIALS,
    });
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [{ name: "hello", content: "hello over tls\n" }],
      }],
    });
    await pushImage(registry, "test/private", "1", image);
    const ref = `${registry.host}/test/private:1`;

    await t.step("with credentials from REGISTRY_AUTH_FILE", async () => {
      await using files = await tempStore();
      const env = {
        REGISTRY_AUTH_FILE: await authFile(
          files.dir,
          registry.host,
          CREDENTIALS,
        ),
      };
      const result = await runPolythene(
        ["pull", "-q", "--tls-verify=false", "--store", files.store, ref],
        { env },
      );
      const uuid = assertPulled(result);
      await assertEntry(files.store, uuid, {
        image: ref,
        digest: image.digest,
      });
      assert.equal(
        await Deno.readTextFile(`${files.store}/${uuid}/hello`),
        "hello over tls\n",
      );
    });

    await t.step("without credentials", async () => {
      await using files = await tempStore();
      const result = await runPolythene(
        ["pull", "-q", "--tls-verify=false", "--store", files.store, ref],
      );
      await assertFailed(result, {
        store: files.store,
        image: ref,
        matches: /401|unauthori[sz]ed|credentials|denied/i,
      });
    });

    await t.step("with TLS verified against the system roots", async () => {
      await using files = await tempStore();
      const env = {
        REGISTRY_AUTH_FILE: await authFile(
          files.dir,
          registry.host,
          CREDENTIALS,
        ),
      };
      const result = await runPolythene(
        ["pull", "-q", "--store", files.store, ref],
        { env },
      );
      await assertFailed(result, { store: files.store, image: ref });
      assert.match(result.stderr, /certificate|tls|verify/i, explain(result));
    });
  },
);
