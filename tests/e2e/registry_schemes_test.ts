/**
 * A registry names URLs the client then fetches: a token realm in its
 * `WWW-Authenticate` challenge and, for a push, each upload's `Location`.
 * Deno's `fetch` reads `file:` URLs (GET), so a hostile registry could make
 * polythene (often root) read a local file as a token, or stream
 * `/dev/zero`; a token service could stream without end. Only http and https are ever requested, on pull and push
 * alike, with one clear error otherwise; the local file is never used; a
 * token answer is read to 1 MiB at most. An https registry may not name a
 * plain http URL (a downgrade, and a way to reach services on loopback,
 * where plain http is otherwise allowed).
 *
 * Needs docker-registry (a real registry behind the fault proxy).
 *
 * @module
 */

import assert from "node:assert/strict";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import {
  makeTlsFiles,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import {
  RegistryClient,
  RegistryError,
  resolveImage,
} from "../../src/image/registry/mod.ts";
import { pushImage } from "../../src/image/registry/push.ts";
import { parseReference } from "../../src/image/reference.ts";

/**
 * Asserts that `promise` rejects with a `type` whose message matches
 * `pattern` (a resolved promise fails the test).
 */
async function refused(
  promise: Promise<unknown>,
  pattern: RegExp,
  type: new (...args: never[]) => Error = Error,
): Promise<void> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof type, String(error));
  assert.match(error.message, pattern);
}

testNeeding(
  registryMissing(),
  "registry URLs: a token realm or upload Location that is not http(s) is refused",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const dir = await Deno.makeTempDir({ prefix: "polythene-schemes-" });
    try {
      // A token that would work, were it read from the local file.
      await Deno.writeTextFile(`${dir}/token.json`, '{"token":"local"}');
      const realm = `file://${dir}/token.json`;
      const challenge = () =>
        new Response('{"errors":[]}', {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="${realm}"` },
        });
      const image = await buildImage({
        layers: [{
          entries: [{ name: "hello", content: "hi\n" }],
          compression: "gzip",
        }],
      });
      await writeOciLayout(`${dir}/layout`, image, "v1");
      const push = (name: string) =>
        pushImage(`${dir}/layout`, image.digest, `${proxy.host}/${name}`, {
          certsDirs: [],
          credentials: () => Promise.resolve(undefined),
          retry: { scale: 0.001 },
        });

      await t.step("pull: a file: token realm", async () => {
        const seen: string[] = [];
        proxy.plan({
          hook: (request) => {
            const auth = request.headers.get("authorization");
            if (auth !== null) seen.push(auth);
            return challenge();
          },
        });
        const client = new RegistryClient({
          certsDirs: [],
          credentials: () => Promise.resolve(undefined),
          retry: { scale: 0.001 },
        });
        try {
          await refused(
            resolveImage(
              client,
              parseReference(`${proxy.host}/test/realm:1`),
              { os: "linux", architecture: "amd64" },
            ),
            /non-HTTP URL \(file:\)/,
            RegistryError,
          );
          assert.deepEqual(seen, [], "the local file became a token");
        } finally {
          await client.close();
        }
      });

      await t.step("push: a file: token realm", async () => {
        const seen: string[] = [];
        proxy.plan({
          hook: (request) => {
            const auth = request.headers.get("authorization");
            if (auth !== null) seen.push(auth);
            return challenge();
          },
        });
        await refused(
          push("test/realm:1"),
          /non-HTTP URL \(file:\)/,
        );
        assert.deepEqual(seen, [], "the local file became a token");
      });

      await t.step("push: a file: upload Location", async () => {
        proxy.plan({
          hook: async (request, { kind, forward }) => {
            if (kind !== "upload" || request.method !== "POST") return;
            const response = await forward(request);
            await response.body?.cancel();
            const headers = new Headers(response.headers);
            headers.set("location", `file://${dir}/upload`);
            return new Response(null, { status: response.status, headers });
          },
        });
        await refused(
          push("test/location:1"),
          /non-HTTP URL \(file:\)/,
        );
      });
      await t.step("push: a token service answering without end", async () => {
        // 64 MiB of spaces, made as they are read; a client that reads
        // only what a token needs stops after the first MiB or so.
        let served = 0;
        const endless = () =>
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (served >= 64 * 1024 * 1024) return controller.close();
              served += 64 * 1024;
              controller.enqueue(new Uint8Array(64 * 1024).fill(32));
            },
          });
        proxy.plan({
          hook: (_request, { kind }) => {
            if (kind === "token") {
              return new Response(endless(), { status: 200 });
            }
            return new Response('{"errors":[]}', {
              status: 401,
              headers: {
                "www-authenticate": `Bearer realm="${proxy.tokenUrl}"`,
              },
            });
          },
        });
        await refused(
          push("test/endless:1"),
          /answer is too large/,
        );
        assert.ok(served < 8 * 1024 * 1024, `read ${served} bytes`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

testNeeding(
  registryMissing({ tls: true }),
  "registry URLs: an https registry cannot name a plain http realm or upload Location",
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "polythene-downgrade-" });
    try {
      const tls = await makeTlsFiles(`${dir}/tls`);
      await using registry = await startRegistry();
      // https in front; its second host (127.0.0.2) speaks plain http.
      await using proxy = startFaultProxy(registry, { tls });
      const image = await buildImage({
        layers: [{
          entries: [{ name: "hello", content: "hi\n" }],
          compression: "gzip",
        }],
      });
      await writeOciLayout(`${dir}/layout`, image, "v1");
      const realm = () =>
        new Response('{"errors":[]}', {
          status: 401,
          headers: {
            "www-authenticate": `Bearer realm="${proxy.redirectUrl}/token"`,
          },
        });
      const push = (name: string) =>
        pushImage(`${dir}/layout`, image.digest, `${proxy.host}/${name}`, {
          certsDirs: [],
          caCerts: [tls.caPem],
          credentials: () => Promise.resolve(undefined),
          retry: { scale: 0.001 },
        });

      await t.step("pull: a plain http token realm", async () => {
        proxy.plan({
          hook: (_r, { server }) => server === "proxy" ? realm() : undefined,
        });
        proxy.clear();
        const client = new RegistryClient({
          certsDirs: [],
          caCerts: [tls.caPem],
          credentials: () => Promise.resolve(undefined),
          retry: { scale: 0.001 },
        });
        try {
          await refused(
            resolveImage(
              client,
              parseReference(`${proxy.host}/test/realm:1`),
              { os: "linux", architecture: "amd64" },
            ),
            /plain http URL named by an https registry/,
            RegistryError,
          );
          assert.deepEqual(proxy.redirected(), []);
        } finally {
          await client.close();
        }
      });

      await t.step("push: a plain http token realm", async () => {
        proxy.plan({
          hook: (_r, { server }) => server === "proxy" ? realm() : undefined,
        });
        proxy.clear();
        await refused(
          push("test/realm:1"),
          /plain http URL named by an https registry/,
        );
        assert.deepEqual(proxy.redirected(), []);
      });

      await t.step("push: a plain http upload Location", async () => {
        proxy.plan({
          hook: async (request, { kind, forward }) => {
            if (kind !== "upload" || request.method !== "POST") return;
            const response = await forward(request);
            const headers = new Headers(response.headers);
            const location = new URL(
              headers.get("location") ?? "",
              proxy.url,
            );
            headers.set(
              "location",
              `${proxy.redirectUrl}${location.pathname}${location.search}`,
            );
            await response.body?.cancel();
            return new Response(null, { status: response.status, headers });
          },
        });
        proxy.clear();
        await refused(
          push("test/location:1"),
          /plain http URL named by an https registry/,
        );
        assert.deepEqual(proxy.redirected(), []);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
