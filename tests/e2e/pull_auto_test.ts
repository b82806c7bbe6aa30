/**
 * `polythene pull --puller auto`, with real podman: it falls through to
 * podman only when the native client reaches no location, and never hides
 * a real error.
 *
 * The fall-through case is one the native client really cannot do: an
 * `insecure` https registry (self-signed, no CA given) reached through
 * `HTTPS_PROXY` — unverified https cannot go through a proxy in Deno 2.9 —
 * while podman (Go) can. The registry is named `secure.polythene.test`,
 * which only the test proxy resolves. The cases that must not fall
 * through: the registry's authentication failure, the proxy's, and a
 * manifest that does not match its digest.
 *
 * Needs root, podman, docker-registry and openssl; under `CI=true` a
 * missing one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import { podmanStorage } from "../helpers/podman_storage.ts";
import { runPolythene } from "../helpers/cli.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { missingFor, testNeeding } from "../helpers/fixtures.ts";
import { startForwardProxy } from "../helpers/forward_proxy.ts";
import { isolatedHome } from "../helpers/isolated_home.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  assertEntry,
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

const MISSING = missingFor({
  root: true,
  programs: ["podman"],
  also: [registryMissing({ tls: true })],
});

const FELL_THROUGH = /pulling through podman instead/;

testNeeding(
  MISSING,
  "pull --puller auto: podman only when nothing is reachable",
  async (t) => {
    const name = "secure.polythene.test";
    await using tls = await startRegistry({ tls: true, tlsNames: [name] });
    await using files = await tempStore();
    const host = `${name}:${tls.host.split(":")[1]}`;
    const credentials = { user: "proxyuser", password: "s3cret-proxy-pw" };
    await using proxy = startForwardProxy({
      hosts: { [host]: tls.host },
      credentials,
    });
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [{ name: "hello", content: "via podman\n" }],
      }],
    });
    await pushImage(tls, "test/app", "1", image);
    const { conf, env: homeEnv } = await isolatedHome(files.dir);
    await Deno.writeTextFile(
      conf,
      `[[registry]]\nlocation = "${host}"\ninsecure = true\n`,
    );
    const storage = await podmanStorage(files.dir);
    const proxyUrl = (password = credentials.password) =>
      `http://${credentials.user}:${password}@127.0.0.1:${proxy.port}`;
    const env = (password?: string) => ({
      ...homeEnv,
      ...storage,
      HTTPS_PROXY: proxyUrl(password),
      HTTP_PROXY: proxyUrl(password),
    });
    const store = files.store;
    const ref = `${host}/test/app:1`;
    const pull = (
      puller: string,
      vars: Record<string, string> = env(),
      image = ref,
    ) =>
      runPolythene(
        ["pull", "-q", "--store", store, "--puller", puller, image],
        { env: vars },
      );

    await t.step("native cannot reach it: one clear error", async () => {
      const result = await pull("native");
      await assertFailed(result, { store, image: ref, matches: /proxy/ });
      assert.doesNotMatch(result.stderr, FELL_THROUGH, explain(result));
    });

    await t.step("auto: podman pulls it, and says so", async () => {
      const result = await pull("auto");
      const uuid = assertPulled(result);
      assert.match(result.stderr, FELL_THROUGH, explain(result));
      assert.ok(!result.stderr.includes(credentials.password));
      assert.equal(
        await Deno.readTextFile(`${store}/${uuid}/hello`),
        "via podman\n",
      );
      await assertEntry(store, uuid, { image: ref, puller: "podman" });
    });

    await t.step(
      "auto: refused proxy credentials do not fall through",
      async () => {
        const before = await entries(store);
        const result = await pull("auto", env("wrong"));
        await assertFailed(result, {
          store,
          image: ref,
          before,
          matches: /proxy/i,
        });
        assert.doesNotMatch(result.stderr, FELL_THROUGH, explain(result));
      },
    );

    await t.step(
      "auto: a registry login failure does not fall through",
      async () => {
        await using locked = await startRegistry({
          htpasswd: { user: "u", password: "p" },
        });
        const before = await entries(store);
        const lockedRef = `${locked.host}/test/app:1`;
        const result = await pull("auto", {
          ...homeEnv,
          ...storage,
        }, lockedRef);
        await assertFailed(result, {
          store,
          image: lockedRef,
          before,
          matches: /login|credentials/,
        });
        assert.doesNotMatch(result.stderr, FELL_THROUGH, explain(result));
      },
    );

    await t.step("auto: a digest mismatch does not fall through", async () => {
      await using plain = await startRegistry();
      await pushImage(plain, "test/app", "1", image);
      await using tamper = startFaultProxy(plain);
      tamper.plan({
        rules: [{ match: { kind: "manifest" }, fault: { type: "tamper" } }],
      });
      const before = await entries(store);
      const tamperedRef = `${tamper.host}/test/app:1`;
      const result = await pull("auto", {
        ...homeEnv,
        ...storage,
      }, tamperedRef);
      await assertFailed(result, {
        store,
        image: tamperedRef,
        before,
        matches: /digest|does not match/i,
      });
      assert.doesNotMatch(result.stderr, FELL_THROUGH, explain(result));
    });
  },
);
