/**
 * `polythene pull` (and `push`) through an HTTP proxy on loopback
 * (`tests/helpers/forward_proxy.ts`). Loopback is never proxied, so the
 * registries are named `*.polythene.test:PORT`, names that only the proxy
 * resolves (to the loopback registries): a pull that works went through
 * it.
 *
 * - https: `CONNECT` through a proxy that demands `Proxy-Authorization`,
 *   with the credentials in `HTTPS_PROXY`'s URL, which never appear in the
 *   output, even with `--verbose`; wrong credentials fail;
 * - `NO_PROXY` naming the registry's domain bypasses the proxy (which then
 *   sees nothing, and the name does not resolve);
 * - `push` (of a commit of a pulled entry) goes through the same
 *   authenticated `CONNECT`, its base layer mounted, and comes back by
 *   pull; with `NO_PROXY` it bypasses the proxy as pull does;
 * - plain http: an `insecure` registry of registries.conf, forwarded by
 *   the proxy (`HTTP_PROXY`), and refused without `insecure`.
 *
 * Needs docker-registry and openssl; under `CI=true` missing ones fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { startForwardProxy } from "../helpers/forward_proxy.ts";
import { isolatedHome } from "../helpers/isolated_home.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  assertFailed,
  assertPulled,
  entries,
  explain,
  tempStore,
} from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const SECURE = "secure.polythene.test";
const PLAIN = "plain.polythene.test";

testNeeding(
  registryMissing({ tls: true }),
  "pull: through HTTPS_PROXY/HTTP_PROXY, NO_PROXY, proxy credentials",
  async (t) => {
    await using tls = await startRegistry({ tls: true, tlsNames: [SECURE] });
    await using plain = await startRegistry();
    await using files = await tempStore();
    const port = (host: string) => host.split(":")[1]!;
    const secureHost = `${SECURE}:${port(tls.host)}`;
    const plainHost = `${PLAIN}:${port(plain.host)}`;
    const credentials = { user: "proxyuser", password: "s3cret-proxy-pw" };
    await using proxy = startForwardProxy({
      hosts: { [secureHost]: tls.host, [plainHost]: plain.host },
      credentials,
    });
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [{ name: "hello", content: "through the proxy\n" }],
      }],
    });
    await pushImage(tls, "test/app", "1", image);
    await pushImage(plain, "test/app", "1", image);

    const store = files.store;
    const { home, conf, env: homeEnv } = await isolatedHome(files.dir);
    await Deno.mkdir(`${home}/.config/containers/certs.d/${secureHost}`, {
      recursive: true,
    });
    await Deno.copyFile(
      tls.caFile!,
      `${home}/.config/containers/certs.d/${secureHost}/ca.crt`,
    );
    const proxyUrl = (password = credentials.password) =>
      `http://${credentials.user}:${password}@127.0.0.1:${proxy.port}`;
    const pull = (ref: string, env: Record<string, string>, verbose = true) =>
      runPolythene([
        "pull",
        verbose ? "--verbose" : "-q",
        "--store",
        store,
        ref,
      ], {
        env: { ...homeEnv, ...env },
      });

    await t.step(
      "https goes through CONNECT with Proxy-Authorization",
      async () => {
        const ref = `${secureHost}/test/app:1`;
        const result = await pull(ref, { HTTPS_PROXY: proxyUrl() });
        const uuid = assertPulled(result);
        assert.equal(
          await Deno.readTextFile(`${store}/${uuid}/hello`),
          "through the proxy\n",
        );
        assert.ok(
          proxy.requests.some((r) =>
            r.method === "CONNECT" && r.target === secureHost && r.allowed
          ),
          JSON.stringify(proxy.requests),
        );
        assert.ok(
          !result.stderr.includes(credentials.password),
          `the proxy password is never printed\n${explain(result)}`,
        );
        assert.match(
          result.stderr,
          /through the proxy http:\/\/\*\*\*@127\.0\.0\.1/,
        );
      },
    );

    await t.step("lower-case https_proxy works too", async () => {
      assertPulled(
        await pull(`${secureHost}/test/app:1`, { https_proxy: proxyUrl() }),
      );
    });

    await t.step("wrong proxy credentials fail the pull", async () => {
      const before = await entries(store);
      const seen = proxy.requests.length;
      const ref = `${secureHost}/test/app:1`;
      const result = await pull(ref, { HTTPS_PROXY: proxyUrl("wrong") });
      assert.equal(result.code, 1, explain(result));
      assert.ok(!result.stderr.includes("wrong@"), explain(result));
      assert.ok(
        proxy.requests.slice(seen).some((r) => !r.allowed),
        "the proxy refused it",
      );
      assert.deepEqual(await entries(store), before);
    });

    await t.step("NO_PROXY bypasses the proxy", async () => {
      const before = await entries(store);
      const seen = proxy.requests.length;
      const ref = `${secureHost}/test/app:1`;
      const result = await pull(ref, {
        HTTPS_PROXY: proxyUrl(),
        NO_PROXY: "example.com,.polythene.test",
      });
      assert.equal(result.code, 1, explain(result));
      assert.match(result.stderr, /cannot connect to secure\.polythene\.test/);
      assert.deepEqual(proxy.requests.slice(seen), [], "the proxy saw nothing");
      assert.deepEqual(await entries(store), before);
    });

    await t.step(
      "push goes through CONNECT with Proxy-Authorization; NO_PROXY bypasses it",
      async () => {
        const env = { ...homeEnv, HTTPS_PROXY: proxyUrl() };
        const cli = (args: string[], more: Record<string, string> = {}) =>
          runPolythene(args, { env: { ...env, ...more } });
        const uuid = assertPulled(
          await cli(["pull", "-q", "-s", store, `${secureHost}/test/app:1`]),
        );
        await Deno.writeTextFile(`${store}/${uuid}/pushed`, "pushed too\n");
        const dest = `${secureHost}/test/pushed:1`;
        const committed = await cli(["commit", "-q", "-s", store, uuid, dest]);
        assert.equal(committed.code, 0, explain(committed));

        const seen = proxy.requests.length;
        const pushed = await cli(["push", "-v", "-s", store, dest, dest]);
        assert.equal(pushed.code, 0, explain(pushed));
        assert.equal(pushed.stdout, `${dest}@${committed.stdout.trim()}\n`);
        assert.ok(
          proxy.requests.slice(seen).some((r) =>
            r.method === "CONNECT" && r.target === secureHost && r.allowed
          ),
          JSON.stringify(proxy.requests.slice(seen)),
        );
        assert.ok(
          !pushed.stderr.includes(credentials.password),
          `the proxy password is never printed\n${explain(pushed)}`,
        );
        // The base came from test/app of the same registry: mounted.
        assert.match(pushed.stderr, /mounted from test\/app/);
        const back = assertPulled(await cli(["pull", "-q", "-s", store, dest]));
        assert.equal(
          await Deno.readTextFile(`${store}/${back}/pushed`),
          "pushed too\n",
        );

        const before = proxy.requests.length;
        const bypassed = await cli(["push", "-q", "-s", store, dest, dest], {
          NO_PROXY: "example.com,.polythene.test",
        });
        assert.equal(bypassed.code, 1, explain(bypassed));
        assert.match(
          bypassed.stderr,
          /cannot connect to secure\.polythene\.test/,
        );
        assert.deepEqual(
          proxy.requests.slice(before),
          [],
          "the proxy saw nothing",
        );
      },
    );

    await t.step(
      "an insecure registry over plain http, forwarded",
      async () => {
        const ref = `${plainHost}/test/app:1`;
        const env = { HTTP_PROXY: proxyUrl(), HTTPS_PROXY: proxyUrl() };
        const before = await entries(store);
        await assertFailed(await pull(ref, env, false), {
          store,
          image: ref,
          before,
        });
        await Deno.writeTextFile(
          conf,
          `[[registry]]\nlocation = "${plainHost}"\ninsecure = true\n`,
        );
        const seen = proxy.requests.length;
        const uuid = assertPulled(await pull(ref, env));
        assert.equal(
          await Deno.readTextFile(`${store}/${uuid}/hello`),
          "through the proxy\n",
        );
        assert.ok(
          proxy.requests.slice(seen).some((r) =>
            r.method === "GET" && r.target === plainHost && r.allowed
          ),
          JSON.stringify(proxy.requests.slice(seen)),
        );
        await Deno.writeTextFile(conf, "");
      },
    );
  },
);
