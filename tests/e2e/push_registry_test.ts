/**
 * The push flow (`src/image/registry/push*.ts`) against a real
 * `docker-registry` on loopback, directly and through the fault proxy (and a
 * TCP cutter for real resets): blobs the registry has are skipped, blobs of
 * a base in another repository are mounted, a 401 leads to a token with
 * push scope, Basic auth over TLS with htpasswd, a reset mid-upload resumes
 * from the registry's `Range`, a 5xx on the manifest PUT is retried, and a
 * tampered upload is refused by the registry and reported as such. What
 * was pushed is read back with pull's client and verified.
 *
 * Needs docker-registry, openssl and perl.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertIncludes } from "../helpers/assert.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  type BuiltIndex,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import { noise } from "../helpers/pull_checks.ts";
import {
  type Credentials,
  type Registry,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { startTcpCutter } from "../helpers/tcp_cutter.ts";
import {
  findCredentials,
  RegistryClient,
  resolveImage,
} from "../../src/image/registry/mod.ts";
import {
  pushImage,
  type PushImageOptions,
} from "../../src/image/registry/push.ts";
import { PushError } from "../../src/image/registry/push_error.ts";
import { parseReference } from "../../src/image/reference.ts";
import type { ProgressReporter } from "../../src/progress.ts";

const USER: Credentials = { user: "pusher", password: "pw-Ünïcode-s3cret" };
const CHUNK = 64 * 1024;

/** A reporter that records each item: its total, advances and ending. */
function recorder() {
  const items: { total?: number; advanced: number[]; ended?: string }[] = [];
  const progress: ProgressReporter = {
    start: (_label, total) => void items.push({ total, advanced: [] }),
    advance: (bytes) => void items.at(-1)!.advanced.push(bytes),
    written() {},
    end: () => void (items.at(-1)!.ended = "end"),
    skip: (reason) => void (items.at(-1)!.ended = reason),
  };
  return { items, progress };
}

/** A layout holding `image`, removed by the caller. */
async function layoutOf(image: BuiltImage | BuiltIndex): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-push-layout-" });
  await writeOciLayout(dir, image, "local");
  return dir;
}

/** Push options with fast retries, no host credentials; `logs` collects. */
function options(
  logs: string[],
  more: PushImageOptions = {},
): PushImageOptions {
  return {
    certsDirs: [],
    credentials: () => Promise.resolve(undefined),
    retry: { scale: 0.001 },
    log: (line) => logs.push(line),
    chunkBytes: CHUNK,
    ...more,
  };
}

/** Reads the pushed image back with pull's client and checks every byte. */
async function assertPulled(
  host: string,
  name: string,
  image: BuiltImage,
  more: ConstructorParameters<typeof RegistryClient>[0] = {},
): Promise<void> {
  const client = new RegistryClient({
    certsDirs: [],
    credentials: () => Promise.resolve(undefined),
    ...more,
  });
  try {
    const ref = parseReference(`${host}/${name}`);
    const resolved = await resolveImage(client, ref, {
      os: "linux",
      architecture: "amd64",
    });
    assert.equal(resolved.manifestDigest, image.digest);
    for (const [i, layer] of resolved.layers.entries()) {
      const bytes = await new Response(await client.openBlob(ref, layer))
        .bytes();
      assert.deepEqual(bytes, image.layers[i]?.blob);
    }
  } finally {
    await client.close();
  }
}

async function authFileFor(host: string, dir: string): Promise<string> {
  const file = `${dir}/auth.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      auths: { [host]: { username: USER.user, password: USER.password } },
    }),
  );
  return file;
}

async function makeImage(size = 300_000): Promise<BuiltImage> {
  return await buildImage({
    layers: [
      { entries: [{ name: "big", content: noise(size) }], compression: "gzip" },
      {
        entries: [{ name: "etc/hello", content: "hi\n" }],
        compression: "gzip",
      },
    ],
    config: { Cmd: ["/bin/sh"] },
  });
}

testNeeding(
  registryMissing(),
  "push: uploads, skips what the registry has, mounts from the base, keeps an index's media type",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const base = await makeImage();
    const layout = await layoutOf(base);
    try {
      await t.step("a first push uploads every blob, chunked", async () => {
        const logs: string[] = [];
        const { items, progress } = recorder();
        const result = await pushImage(
          layout,
          base.digest,
          `${proxy.host}/test/base:1`,
          options(logs, { progress }),
        );
        assert.equal(result.digest, base.digest);
        assert.deepEqual(result.blobs, { exists: 0, mounted: 0, uploaded: 3 });
        // Progress: each blob's bytes as the registry took them, a chunk at
        // a time, ending at its size.
        assert.equal(items.length, 3);
        for (const item of items) {
          assert.equal(item.ended, "end");
          assert.equal(item.advanced.at(-1), item.total);
          const chunks = Math.ceil(item.total! / CHUNK);
          if (chunks > 1) {
            assert.deepEqual(
              item.advanced.slice(0, chunks),
              Array.from(
                { length: chunks },
                (_, i) => Math.min(item.total!, (i + 1) * CHUNK),
              ),
            );
          }
        }
        assert.ok(items.some((i) => i.advanced.length > 2), "a chunked blob");
        const patches = proxy.requests.filter((r) => r.method === "PATCH");
        assert.ok(patches.length >= 4, `${patches.length} PATCHes`);
        await assertPulled(proxy.host, "test/base:1", base);
      });

      await t.step("a second push skips every blob (HEAD 200)", async () => {
        proxy.clear();
        const { items, progress } = recorder();
        const result = await pushImage(
          layout,
          base.digest,
          `${proxy.host}/test/base:2`,
          options([], { progress }),
        );
        assert.deepEqual(result.blobs, { exists: 3, mounted: 0, uploaded: 0 });
        assert.deepEqual(
          items.map((i) => [i.ended, i.advanced.length]),
          Array(3).fill(["the registry has it", 0]),
        );
        const heads = proxy.requests.filter((r) =>
          r.method === "HEAD" && r.kind === "blob"
        );
        assert.equal(heads.length, 3);
        assert.ok(heads.every((r) => r.status === 200));
        assert.equal(
          proxy.requests.filter((r) => r.kind === "upload").length,
          0,
        );
      });

      await t.step("a derived image mounts the base's layers", async () => {
        const child = await buildImage({
          layers: [
            {
              entries: [{ name: "new", content: "added\n" }],
              compression: "gzip",
            },
          ],
        });
        // The base's manifest, plus a layer of its own, named by annotation.
        const manifest = JSON.parse(new TextDecoder().decode(base.bytes));
        manifest.layers.push(child.layers[0]!.descriptor);
        manifest.annotations = {
          "org.opencontainers.image.base.name": `${proxy.host}/test/base:1`,
        };
        const bytes = new TextEncoder().encode(JSON.stringify(manifest));
        const digest = `sha256:${
          Array.from(
            new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
            (b) => b.toString(16).padStart(2, "0"),
          ).join("")
        }`;
        const dir = `${layout}/blobs/sha256`;
        await Deno.writeFile(`${dir}/${digest.slice(7)}`, bytes);
        const newLayer = child.layers[0]!;
        await Deno.writeFile(
          `${dir}/${newLayer.descriptor.digest.slice(7)}`,
          newLayer.blob,
        );
        proxy.clear();
        const result = await pushImage(
          layout,
          digest,
          `${proxy.host}/test/derived:1`,
          options([]),
        );
        assert.deepEqual(result.blobs, { exists: 0, mounted: 3, uploaded: 1 });
        const mounts = proxy.requests.filter((r) =>
          r.method === "POST" && r.query.includes("mount=") &&
          r.query.includes("from=test%2Fbase")
        );
        assert.equal(mounts.length, 4);
        assert.equal(mounts.filter((r) => r.status === 201).length, 3);
      });

      await t.step(
        "a Docker schema 2 manifest keeps its media type",
        async () => {
          const docker = await buildImage({
            format: "docker",
            layers: [{
              entries: [{ name: "d", content: "docker\n" }],
              compression: "gzip",
            }],
          });
          const dockerLayout = await layoutOf(docker);
          try {
            const result = await pushImage(
              dockerLayout,
              docker.digest,
              `${registry.host}/test/docker:1`,
              options([]),
            );
            assert.equal(result.mediaType, docker.mediaType);
            const response = await fetch(
              `${registry.url}/v2/test/docker/manifests/1`,
              { headers: { accept: docker.mediaType } },
            );
            assert.equal(
              response.headers.get("content-type"),
              docker.mediaType,
            );
            assert.equal(
              response.headers.get("docker-content-digest"),
              docker.digest,
            );
            await response.body?.cancel();
          } finally {
            await Deno.remove(dockerLayout, { recursive: true });
          }
        },
      );

      await t.step("an index keeps its media type and digest", async () => {
        const arm = await buildImage({
          layers: [{
            entries: [{ name: "a", content: "arm\n" }],
            compression: "gzip",
          }],
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        });
        const index = await buildIndex([base, arm]);
        const indexLayout = await layoutOf(index);
        try {
          const result = await pushImage(
            indexLayout,
            index.digest,
            `${registry.host}/test/multi:1`,
            options([]),
          );
          assert.equal(result.digest, index.digest);
          assert.equal(result.mediaType, index.mediaType);
          const response = await fetch(
            `${registry.url}/v2/test/multi/manifests/1`,
            { headers: { accept: index.mediaType } },
          );
          assert.equal(response.headers.get("content-type"), index.mediaType);
          assert.deepEqual(await response.bytes(), index.bytes);
          await assertPulled(registry.host, "test/multi:1", base);
        } finally {
          await Deno.remove(indexLayout, { recursive: true });
        }
      });
    } finally {
      await Deno.remove(layout, { recursive: true });
    }
  },
);

testNeeding(
  registryMissing(),
  "push: a 401 challenge then a token with push scope; a reset mid-upload resumed; a 5xx on the manifest PUT retried; a tampered upload refused",
  async (t) => {
    await using registry = await startRegistry();
    await using proxy = startFaultProxy(registry);
    const image = await makeImage();
    const layout = await layoutOf(image);
    const dir = await Deno.makeTempDir({ prefix: "polythene-push-auth-" });
    try {
      await t.step(
        "401, then a token from the auth file's credentials",
        async () => {
          proxy.plan({ bearer: { credentials: USER } });
          const authFile = await authFileFor(proxy.host, dir);
          const logs: string[] = [];
          await pushImage(layout, image.digest, `${proxy.host}/test/auth:1`, {
            ...options(logs),
            credentials: (registryName, repository) =>
              findCredentials(registryName, repository, {
                env: (name) =>
                  name === "REGISTRY_AUTH_FILE" ? authFile : undefined,
              }),
          });
          const first = proxy.requests.find((r) => r.kind !== "ping");
          assert.equal(first?.kind, "token");
          const tokens = proxy.requests.filter((r) => r.kind === "token");
          assert.ok(tokens.length >= 1);
          assertIncludes(
            decodeURIComponent(tokens[0]!.query),
            "scope=repository:test/auth:pull,push",
          );
          assert.ok(proxy.tokens.length >= 1);
          for (const line of logs) {
            assert.ok(!line.includes(USER.password), line);
            assert.ok(!proxy.tokens.some((tk) => line.includes(tk)), line);
          }
          proxy.plan({});
          await assertPulled(proxy.host, "test/auth:1", image);
        },
      );

      await t.step(
        "a redirect to another host is followed without Authorization",
        async () => {
          const authFile = `${dir}/auth.json`;
          proxy.plan({
            bearer: { credentials: USER },
            rules: [{
              match: { kind: "manifest", method: "PUT" },
              times: 1,
              fault: { type: "redirect", to: "other-host", status: 307 },
            }],
          });
          proxy.clear();
          await pushImage(layout, image.digest, `${proxy.host}/test/moved:1`, {
            ...options([]),
            credentials: (registryName, repository) =>
              findCredentials(registryName, repository, {
                env: (name) =>
                  name === "REGISTRY_AUTH_FILE" ? authFile : undefined,
              }),
          });
          const moved = proxy.redirected();
          assert.deepEqual(
            moved.map((r) => `${r.method} ${r.kind} ${r.status}`),
            ["PUT manifest 201"],
          );
          assert.equal(moved[0]!.headers.authorization, undefined);
          proxy.plan({});
          await assertPulled(proxy.host, "test/moved:1", image);
        },
      );

      await t.step(
        "an upload Location on another host gets no Authorization",
        async () => {
          const authFile = `${dir}/auth.json`;
          proxy.plan({
            bearer: { credentials: USER },
            hook: async (request, { kind, forward }) => {
              if (kind !== "upload" || request.method !== "POST") return;
              const response = await forward(request);
              const headers = new Headers(response.headers);
              const location = headers.get("location") ?? "";
              headers.set(
                "location",
                location.replace(proxy.url, proxy.redirectUrl),
              );
              return new Response(null, { status: response.status, headers });
            },
          });
          proxy.clear();
          await pushImage(layout, image.digest, `${proxy.host}/test/away:1`, {
            ...options([]),
            credentials: (registryName, repository) =>
              findCredentials(registryName, repository, {
                env: (name) =>
                  name === "REGISTRY_AUTH_FILE" ? authFile : undefined,
              }),
          });
          const away = proxy.redirected();
          assert.ok(away.some((r) => r.method === "PATCH"));
          assert.ok(away.every((r) => r.headers.authorization === undefined));
          proxy.plan({});
          await assertPulled(proxy.host, "test/away:1", image);
        },
      );

      await t.step("no credentials: one clear error", async () => {
        proxy.plan({ bearer: { credentials: USER } });
        const error = await pushImage(
          layout,
          image.digest,
          `${proxy.host}/test/auth:2`,
          options([]),
        ).then(() => undefined, (e) => e);
        assert.ok(error instanceof PushError, String(error));
        assertIncludes(
          error.message,
          `Cannot push "${proxy.host}/test/auth:2"`,
        );
        assertIncludes(error.message, "requires a login");
        proxy.plan({});
      });

      await t.step(
        "a reset mid-upload resumes at the registry's Range",
        async () => {
          // Upload bodies are buffered by the proxy, so the cut part of a
          // PATCH never reaches the registry; upload Locations are turned
          // back to the cutter, so every PATCH goes through it.
          await using cutter = startTcpCutter(proxy.host);
          proxy.plan({
            hook: async (request, { kind, forward }) => {
              if (kind !== "upload") return;
              const hasBody = request.method === "PATCH" ||
                request.method === "PUT";
              const response = await forward(
                new Request(request.url, {
                  method: request.method,
                  headers: request.headers,
                  body: hasBody ? await request.bytes() : undefined,
                }),
              );
              const headers = new Headers(response.headers);
              const location = headers.get("location");
              if (location?.startsWith(proxy.url)) {
                headers.set(
                  "location",
                  `http://${cutter.host}${location.slice(proxy.url.length)}`,
                );
              }
              return new Response(response.body, {
                status: response.status,
                headers,
              });
            },
          });
          cutter.cutRequest("PATCH", 3, 20_000, 2);
          proxy.clear();
          const logs: string[] = [];
          await pushImage(
            layout,
            image.digest,
            `${cutter.host}/test/reset:1`,
            options(logs),
          );
          assert.equal(
            cutter.cuts,
            2,
            proxy.requests.map((r) =>
              `${r.method} ${r.kind} ${r.status} ${
                r.headers["content-range"] ?? ""
              }`
            ).join("\n"),
          );
          const status = proxy.requests.filter((r) =>
            r.kind === "upload" && r.method === "GET"
          );
          assert.equal(status.length, 1, JSON.stringify(proxy.requests));
          assert.equal(status[0]!.status, 204);
          const after = proxy.requests.slice(
            proxy.requests.indexOf(status[0]!),
          );
          const next = after.find((r) => r.method === "PATCH");
          assert.equal(
            next?.headers["content-range"],
            `${2 * CHUNK}-${3 * CHUNK - 1}`,
          );
          const posts = proxy.requests.filter((r) => r.method === "POST");
          assert.equal(
            posts.length,
            3,
            "one upload session per blob, none restarted",
          );
          assert.ok(
            logs.some((l) => l.includes("resuming at 131072")),
            logs.join("\n"),
          );
          proxy.plan({});
          await assertPulled(proxy.host, "test/reset:1", image);
        },
      );

      await t.step(
        "a chunk stored but its answer lost: the registry drops the session, a new one starts",
        async () => {
          let patches = 0;
          proxy.plan({
            hook: async (request, { kind, forward }) => {
              if (kind !== "upload" || request.method !== "PATCH") return;
              const response = await forward(request);
              if (++patches !== 2) return response;
              await response.body?.cancel();
              return new Response("lost", { status: 502 });
            },
          });
          proxy.clear();
          const logs: string[] = [];
          await pushImage(
            layout,
            image.digest,
            `${proxy.host}/test/lost:1`,
            options(logs),
          );
          // docker-registry drops an upload whose size is not the one its
          // state token says (404), so the blob starts again: one POST more.
          const uploads = proxy.requests.filter((r) => r.kind === "upload");
          const status = uploads.filter((r) => r.method === "GET");
          assert.deepEqual(status.map((r) => r.status), [404]);
          assert.equal(uploads.filter((r) => r.method === "POST").length, 4);
          assert.ok(logs.some((l) => l.includes("upload interrupted")));
          proxy.plan({});
          await assertPulled(proxy.host, "test/lost:1", image);
        },
      );

      await t.step("two 503s on the manifest PUT, then success", async () => {
        proxy.plan({
          rules: [{
            match: { kind: "manifest", method: "PUT" },
            times: 2,
            fault: { type: "status", status: 503 },
          }],
        });
        proxy.clear();
        const result = await pushImage(
          layout,
          image.digest,
          `${proxy.host}/test/retry:1`,
          options([]),
        );
        assert.equal(result.digest, image.digest);
        const puts = proxy.requests.filter((r) =>
          r.kind === "manifest" && r.method === "PUT"
        );
        assert.deepEqual(puts.map((r) => r.status), [503, 503, 201]);
        proxy.plan({});
      });

      await t.step(
        "a tampered upload: refused by the registry, reported",
        async () => {
          const small = await makeImage(10_000);
          const smallLayout = await layoutOf(small);
          proxy.plan({
            hook: async (request, { kind, forward }) => {
              if (kind !== "upload" || request.method !== "PUT") return;
              const body = await request.bytes();
              if (body.length > 0) body[body.length >> 1]! ^= 0xff;
              return await forward(
                new Request(request.url, {
                  method: "PUT",
                  headers: request.headers,
                  body,
                }),
              );
            },
          });
          try {
            const error = await pushImage(
              smallLayout,
              small.digest,
              `${proxy.host}/test/tamper:1`,
              options([]),
            ).then(() => undefined, (e) => e);
            assert.ok(error instanceof PushError, String(error));
            assert.equal(error.kind, "digest");
            assertIncludes(
              error.message,
              `Cannot push "${proxy.host}/test/tamper:1"`,
            );
            assertIncludes(error.message, "the registry refused blob sha256:");
            assertIncludes(error.message, "do not match the digest");
            assert.ok(!error.message.includes("\n"));
            const tagged = await fetch(
              `${registry.url}/v2/test/tamper/manifests/1`,
            );
            await tagged.body?.cancel();
            assert.equal(tagged.status, 404);
          } finally {
            proxy.plan({});
            await Deno.remove(smallLayout, { recursive: true });
          }
        },
      );
    } finally {
      await Deno.remove(layout, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
);

testNeeding(
  registryMissing({ tls: true, htpasswd: USER }),
  "push: Basic auth over TLS with htpasswd",
  async () => {
    await using registry: Registry = await startRegistry({
      tls: true,
      htpasswd: USER,
    });
    const image = await makeImage(50_000);
    const layout = await layoutOf(image);
    const dir = await Deno.makeTempDir({ prefix: "polythene-push-tls-" });
    try {
      const authFile = await authFileFor(registry.host, dir);
      const credentials = (registryName: string, repository: string) =>
        findCredentials(registryName, repository, {
          env: (name) => name === "REGISTRY_AUTH_FILE" ? authFile : undefined,
        });
      const caPem = registry.tls!.caPem;
      const untrusted = await pushImage(
        layout,
        image.digest,
        `${registry.host}/test/tls:1`,
        options([], { credentials }),
      ).then(() => undefined, (e) => e);
      assert.ok(untrusted instanceof PushError, String(untrusted));
      assert.equal(untrusted.kind, "tls");
      // --tls-verify=false: the certificate is not checked (node:https).
      const unverified = await pushImage(
        layout,
        image.digest,
        `${registry.host}/test/tls:unverified`,
        options([], { credentials, tlsVerify: false }),
      );
      assert.equal(unverified.digest, image.digest);
      const logs: string[] = [];
      const result = await pushImage(
        layout,
        image.digest,
        `${registry.host}/test/tls:1`,
        options(logs, { credentials, caCerts: [caPem] }),
      );
      assert.equal(result.digest, image.digest);
      for (const line of logs) assert.ok(!line.includes(USER.password), line);
      await assertPulled(registry.host, "test/tls:1", image, {
        caCerts: [caPem],
        credentials,
      });
    } finally {
      await Deno.remove(layout, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
);
