/**
 * The native registry client against a real `docker-registry` on loopback,
 * directly and through the fault proxy: anonymous pulls, Bearer tokens
 * (anonymous and with credentials from an auth file), Basic over TLS with
 * htpasswd, every proxy fault ending in success after a retry or in one
 * clear error, redirects that do not leak `Authorization`, `Range` resumes,
 * and verification failures.
 *
 * Needs docker-registry, openssl and perl; without them the tests are
 * skipped by name (and fail under `CI=true`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { testNeeding } from "../helpers/fixtures.ts";
import { assertIncludes } from "../helpers/assert.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  type BuiltIndex,
} from "../helpers/oci_image.ts";
import {
  type Credentials,
  pushImage,
  type Registry,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  type FaultPlan,
  type FaultProxy,
  startFaultProxy,
} from "../helpers/fault_proxy.ts";
import {
  findCredentials,
  MAX_MANIFEST_BYTES,
  openBlob,
  RegistryClient,
  type RegistryClientOptions,
  RegistryError,
  resolveImage,
} from "../../src/image/registry/mod.ts";
import { parseReference } from "../../src/image/reference.ts";
import type {
  Descriptor,
  ImageReference,
  Platform,
} from "../../src/image/types.ts";

const AMD64: Platform = { os: "linux", architecture: "amd64" };
const ARM64: Platform = { os: "linux", architecture: "arm64", variant: "v8" };
const USER: Credentials = { user: "puller", password: "pw-Ünïcode-s3cret" };

/** Content that does not compress: a blob big enough to cut mid-way. */
function noise(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  }
  return bytes;
}

interface Images {
  single: BuiltImage;
  docker: BuiltImage;
  arm: BuiltImage;
  index: BuiltIndex;
}

async function makeImages(): Promise<Images> {
  const single = await buildImage({
    layers: [
      {
        entries: [{ name: "big", content: noise(300_000) }],
        compression: "gzip",
      },
      {
        entries: [{ name: "etc/hello", content: "hi\n" }],
        compression: "none",
      },
    ],
    config: { Cmd: ["/bin/sh"] },
  });
  const docker = await buildImage({
    format: "docker",
    layers: [{
      entries: [{ name: "d", content: "docker\n" }],
      compression: "gzip",
    }],
  });
  const arm = await buildImage({
    layers: [{
      entries: [{ name: "arm", content: "arm64\n" }],
      compression: "gzip",
    }],
    platform: ARM64,
  });
  const index = await buildIndex([single, arm]);
  return { single, docker, arm, index };
}

async function pushAll(target: Registry, images: Images): Promise<void> {
  await pushImage(target, "test/single", "1", images.single);
  await pushImage(target, "test/docker", "1", images.docker);
  await pushImage(target, "test/arm", "1", images.arm);
  await pushImage(target, "test/multi", "1", images.index);
}

/** A client with fast retries; `sleeps` records every wait. */
function client(
  options: RegistryClientOptions = {},
): { client: RegistryClient; logs: string[]; sleeps: number[] } {
  const logs: string[] = [];
  const sleeps: number[] = [];
  return {
    client: new RegistryClient({
      certsDirs: [],
      credentials: () => Promise.resolve(undefined),
      retry: { scale: 0.001 },
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
      log: (line) => logs.push(line),
      ...options,
    }),
    logs,
    sleeps,
  };
}

async function readBlob(
  c: RegistryClient,
  ref: ImageReference,
  descriptor: Descriptor,
): Promise<Uint8Array> {
  return await new Response(await openBlob(c, ref, descriptor)).bytes();
}

/** Resolves and reads every layer; checks them against the built image. */
async function pullAll(
  c: RegistryClient,
  ref: ImageReference,
  image: BuiltImage,
  platform = AMD64,
): Promise<void> {
  const resolved = await resolveImage(c, ref, platform);
  assert.equal(resolved.manifestDigest, image.digest);
  assert.deepEqual(resolved.configBytes, image.configBytes);
  assert.equal(resolved.layers.length, image.layers.length);
  for (const [i, layer] of resolved.layers.entries()) {
    assert.deepEqual(await readBlob(c, ref, layer), image.layers[i]?.blob);
  }
}

/** `promise` must reject with one RegistryError of `kind`, on one line. */
async function oneError(
  promise: Promise<unknown>,
  kind: RegistryError["kind"],
  ...parts: string[]
): Promise<RegistryError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof RegistryError,
    `expected a RegistryError, got ${caught}`,
  );
  assert.equal(caught.kind, kind, caught.message);
  assert.ok(!caught.message.includes("\n"), caught.message);
  for (const part of parts) assertIncludes(caught.message, part);
  return caught;
}

function secretsAbsent(texts: string[], secrets: string[]): void {
  for (const text of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
    }
  }
}

testNeeding(
  registryMissing(),
  "registry client: anonymous pulls, platforms and errors from a real registry",
  async (t) => {
    await using registry = await startRegistry();
    const images = await makeImages();
    await pushAll(registry, images);
    const ref = (name: string) => parseReference(`${registry.host}/${name}`);

    await t.step(
      "an OCI image: manifest, config and layers verified",
      async () => {
        const { client: c, logs } = client();
        await pullAll(c, ref("test/single:1"), images.single);
        // Loopback: https is tried first, then plain http.
        assert.ok(logs.some((l) => l.includes("trying http")), logs.join("\n"));
        await c.close();
      },
    );

    await t.step("a Docker schema 2 image", async () => {
      const { client: c } = client();
      await pullAll(c, ref("test/docker:1"), images.docker);
      await c.close();
    });

    await t.step("pinned by digest", async () => {
      const { client: c } = client();
      const pinned = ref(`test/single@${images.single.digest}`);
      const resolved = await resolveImage(c, pinned, AMD64);
      assert.equal(resolved.manifestDigest, images.single.digest);
      await c.close();
    });

    await t.step(
      "an index: the platform's manifest, variant honoured",
      async () => {
        const { client: c } = client();
        const multi = ref("test/multi:1");
        const amd = await resolveImage(c, multi, AMD64);
        assert.equal(amd.manifestDigest, images.single.digest);
        assert.equal(amd.indexDigest, images.index.digest);
        // arm64 without a variant is arm64/v8.
        const arm = await resolveImage(c, multi, {
          os: "linux",
          architecture: "arm64",
        });
        assert.equal(arm.manifestDigest, images.arm.digest);
        assert.deepEqual(arm.platform, ARM64);
        await c.close();
      },
    );

    await t.step(
      "no such platform: the error lists those that exist",
      async () => {
        const { client: c } = client();
        await oneError(
          resolveImage(c, ref("test/multi:1"), {
            os: "linux",
            architecture: "s390x",
          }),
          "platform",
          `Cannot pull "${registry.host}/test/multi:1": no image for linux/s390x; the index has linux/amd64, linux/arm64/v8`,
        );
        await oneError(
          resolveImage(c, ref("test/arm:1"), AMD64),
          "platform",
          "the image is for linux/arm64/v8, not linux/amd64",
        );
        await c.close();
      },
    );

    await t.step("manifest unknown", async () => {
      const { client: c } = client();
      const error = await oneError(
        resolveImage(c, ref("test/single:nope"), AMD64),
        "not-found",
      );
      assert.equal(
        error.message,
        `Cannot pull "${registry.host}/test/single:nope": manifest unknown (404)`,
      );
      assert.equal(error.exitCode, 1);
      await c.close();
    });

    await t.step("a resumed download continues from an offset", async () => {
      const { client: c } = client();
      const layer = images.single.layers[0]!;
      const head = layer.blob.subarray(0, 12_345);
      const stream = await openBlob(c, ref("test/single:1"), layer.descriptor, {
        offset: head.length,
        hash: createHash("sha256").update(head),
      });
      const tail = await new Response(stream).bytes();
      assert.deepEqual(tail, layer.blob.subarray(head.length));
      await c.close();
    });
  },
);

testNeeding(
  registryMissing(),
  "registry client: Bearer tokens and faults through the fault proxy",
  async (t) => {
    await using registry = await startRegistry();
    const images = await makeImages();
    await pushAll(registry, images);
    await using proxy = startFaultProxy(registry);
    const ref = (name: string) => parseReference(`${proxy.host}/${name}`);
    const single = ref("test/single:1");
    const bigLayer = images.single.layers[0]!;
    const run = async (
      plan: FaultPlan,
      fn: (
        c: RegistryClient,
        logs: string[],
        sleeps: number[],
      ) => Promise<void>,
      options: RegistryClientOptions = {},
    ) => {
      proxy.plan(plan);
      proxy.clear();
      const { client: c, logs, sleeps } = client(options);
      try {
        await fn(c, logs, sleeps);
      } finally {
        await c.close();
        proxy.plan({});
      }
      return { logs, sleeps };
    };

    await t.step("no fault", async () => {
      await run({}, (c) => pullAll(c, single, images.single));
    });

    await t.step("Bearer, anonymous: a token with the pull scope", async () => {
      const { logs } = await run(
        { bearer: {} },
        (c) => pullAll(c, single, images.single),
      );
      const tokenRequests = proxy.requests.filter((r) => r.kind === "token");
      assert.equal(tokenRequests.length, 1);
      assert.equal(tokenRequests[0]?.headers.authorization, undefined);
      assertIncludes(
        tokenRequests[0]?.query ?? "",
        "scope=repository%3Atest%2Fsingle%3Apull",
      );
      const api = proxy.requests.filter((r) => r.kind === "blob");
      assert.ok(
        api.every((r) => r.headers.authorization?.startsWith("Bearer ")),
      );
      secretsAbsent(logs, proxy.tokens);
    });

    await t.step("Bearer with credentials from an auth file", async () => {
      const dir = await Deno.makeTempDir({ prefix: "polythene-auth-" });
      try {
        const authFile = `${dir}/auth.json`;
        const write = (user: string, password: string) =>
          Deno.writeTextFile(
            authFile,
            JSON.stringify({
              auths: {
                [proxy.host]: {
                  auth: btoa(String.fromCharCode(
                    ...new TextEncoder().encode(`${user}:${password}`),
                  )),
                },
              },
            }),
          );
        const env = (name: string) =>
          name === "REGISTRY_AUTH_FILE" ? authFile : undefined;
        const credentials = (registryName: string, repository: string) =>
          findCredentials(registryName, repository, { env });

        await write(USER.user, USER.password);
        const { logs } = await run(
          { bearer: { credentials: USER } },
          (c) => pullAll(c, single, images.single),
          { credentials },
        );
        const tokenRequest = proxy.requests.find((r) => r.kind === "token");
        assert.ok(tokenRequest?.headers.authorization?.startsWith("Basic "));
        secretsAbsent(logs, [...proxy.tokens, USER.password]);

        await write(USER.user, "wrong password");
        await run({ bearer: { credentials: USER } }, async (c, logs) => {
          const error = await oneError(
            resolveImage(c, single, AMD64),
            "unauthorized",
            `the token service refused the credentials from ${authFile} (401)`,
          );
          secretsAbsent([error.message, error.hint ?? "", ...logs], [
            "wrong password",
            ...proxy.tokens,
          ]);
        }, { credentials });

        await run({ bearer: { credentials: USER } }, async (c) => {
          await oneError(
            resolveImage(c, single, AMD64),
            "unauthorized",
            `${proxy.host} requires a login (token service: 401)`,
          );
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step(
      "a token realm on plain http elsewhere is refused",
      async () => {
        // 192.0.2.1 is TEST-NET-1: the client must refuse before connecting.
        await run({
          hook: (_request, { kind }) =>
            kind === "ping"
              ? new Response("{}", {
                status: 401,
                headers: {
                  "www-authenticate":
                    'Bearer realm="http://192.0.2.1/token",service="x"',
                },
              })
              : undefined,
        }, async (c) => {
          const error = await oneError(
            c.getManifest(single),
            "insecure",
            "refusing plain http to 192.0.2.1",
          );
          assertIncludes(error.hint ?? "", "--tls-verify=false");
        });
      },
    );

    await t.step("500 twice on the manifest, then success", async () => {
      await run({
        rules: [{
          match: { kind: "manifest" },
          times: 2,
          fault: { type: "status", status: 500 },
        }],
      }, (c) => pullAll(c, single, images.single));
      assert.equal(
        proxy.requests.filter((r) => r.kind === "manifest").length,
        3,
      );
    });

    await t.step("500 on every blob request: one clear error", async () => {
      await run({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "status", status: 500 },
        }],
      }, async (c) => {
        await oneError(
          resolveImage(c, single, AMD64),
          "server",
          `Cannot pull "${proxy.host}/test/single:1": config ${images.single.configDescriptor.digest}: fault proxy: 500 (500)`,
        );
      });
      assert.equal(proxy.requests.filter((r) => r.kind === "blob").length, 5);
    });

    await t.step("429 with Retry-After in seconds, then success", async () => {
      const { sleeps } = await run({
        rules: [{
          match: { kind: "manifest" },
          times: 1,
          fault: { type: "status", status: 429, retryAfter: 2 },
        }],
      }, (c) => pullAll(c, single, images.single));
      // 2 s asked, scaled by 0.001.
      assert.deepEqual(sleeps, [2]);
    });

    await t.step("429 with Retry-After as an HTTP date, capped", async () => {
      const { sleeps } = await run({
        rules: [{
          match: { kind: "manifest" },
          times: 1,
          fault: {
            type: "status",
            status: 429,
            retryAfter: new Date(Date.now() + 3_600_000),
          },
        }],
      }, (c) => pullAll(c, single, images.single));
      assert.deepEqual(sleeps, [30]);
    });

    await t.step("404 on a blob: one clear error", async () => {
      await run({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "status", status: 404 },
        }],
      }, async (c) => {
        await oneError(
          c.openBlob(single, bigLayer.descriptor, { what: "layer" }),
          "not-found",
          `layer ${bigLayer.descriptor.digest}: fault proxy: 404 (404)`,
        );
      });
    });

    await t.step("connection reset mid-blob: resumed with Range", async () => {
      await run({
        rules: [{
          match: { kind: "blob" },
          times: 1,
          fault: { type: "reset", afterBytes: 100_000 },
        }],
      }, async (c) => {
        assert.deepEqual(
          await readBlob(c, single, bigLayer.descriptor),
          bigLayer.blob,
        );
      });
      const blobs = proxy.requests.filter((r) => r.kind === "blob");
      assert.equal(blobs.length, 2);
      assert.match(blobs[1]?.headers.range ?? "", /^bytes=[1-9]\d*-$/);
      assert.equal(blobs[1]?.status, 206);
    });

    await t.step(
      "reset, and the server ignores Range: read again, skipping",
      async () => {
        const { logs } = await run({
          rules: [
            {
              match: { kind: "blob" },
              times: 1,
              fault: { type: "reset", afterBytes: 100_000 },
            },
            { match: { kind: "blob" }, fault: { type: "ignore-range" } },
          ],
        }, async (c) => {
          assert.deepEqual(
            await readBlob(c, single, bigLayer.descriptor),
            bigLayer.blob,
          );
        });
        const blobs = proxy.requests.filter((r) => r.kind === "blob");
        assert.equal(blobs.length, 2);
        assert.match(blobs[1]?.headers.range ?? "", /^bytes=\d+-$/);
        assert.equal(blobs[1]?.status, 200);
        assert.ok(logs.some((l) => l.includes("the server ignored Range")));
      },
    );

    await t.step(
      "reset every time with no progress: one clear error",
      async () => {
        await run({
          rules: [{
            match: { kind: "blob" },
            fault: { type: "reset", afterBytes: 0 },
          }],
        }, async (c) => {
          await oneError(
            readBlob(c, single, bigLayer.descriptor),
            "network",
            `blob ${bigLayer.descriptor.digest}: the connection was lost after 0 of ${bigLayer.descriptor.size} bytes, 11 times without progress`,
          );
        });
      },
    );

    await t.step(
      "redirect to another host: no Authorization sent there",
      async () => {
        await run({
          bearer: {},
          rules: [{ match: { kind: "blob" }, fault: { type: "redirect" } }],
        }, (c) => pullAll(c, single, images.single));
        const redirected = proxy.redirected();
        assert.equal(redirected.length, 3); // config and two layers
        for (const request of redirected) {
          assert.equal(request.headers.authorization, undefined);
          assert.equal(request.status, 200);
        }
        // The registry itself did get the token.
        const first = proxy.requests.find((r) =>
          r.server === "proxy" && r.kind === "blob"
        );
        assert.ok(first?.headers.authorization?.startsWith("Bearer "));
      },
    );

    await t.step(
      "a chain of redirects on the same host keeps Authorization",
      async () => {
        await run({
          bearer: {},
          rules: [{
            match: { kind: "blob" },
            fault: { type: "redirect", to: "self", hops: 3 },
          }],
        }, async (c) => {
          assert.deepEqual(
            await readBlob(c, single, bigLayer.descriptor),
            bigLayer.blob,
          );
        });
        const blobs = proxy.requests.filter((r) => r.kind === "blob");
        assert.equal(blobs.length, 4);
        assert.ok(
          blobs.every((r) => r.headers.authorization?.startsWith("Bearer ")),
        );
      },
    );

    await t.step("more than 10 redirects: one clear error", async () => {
      await run({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "redirect", to: "self", hops: 11 },
        }],
      }, async (c) => {
        await oneError(
          c.openBlob(single, bigLayer.descriptor),
          "redirect",
          `more than 10 redirects from ${proxy.host}`,
        );
      });
    });

    await t.step("a tampered blob fails its digest", async () => {
      await run({
        rules: [{ match: { kind: "blob" }, fault: { type: "tamper" } }],
      }, async (c) => {
        await oneError(
          readBlob(c, single, bigLayer.descriptor),
          "digest",
          `blob ${bigLayer.descriptor.digest} does not match its digest (the content is sha256:`,
        );
        await oneError(
          c.getConfig(single, images.single.configDescriptor),
          "digest",
          `config ${images.single.configDescriptor.digest} does not match its digest`,
        );
      });
    });

    await t.step(
      "a tampered manifest fails Docker-Content-Digest",
      async () => {
        await run({
          rules: [{
            match: { kind: "manifest" },
            fault: { type: "tamper", offset: 20 },
          }],
        }, async (c) => {
          await oneError(
            c.getManifest(single),
            "digest",
            `manifest does not match the registry's Docker-Content-Digest ${images.single.digest}`,
          );
          await oneError(
            c.getManifest(single, { reference: images.single.digest }),
            "digest",
            `manifest ${images.single.digest} does not match its digest`,
          );
        });
      },
    );

    await t.step("a truncated blob fails its size", async () => {
      await run({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "truncate", keepBytes: 1000 },
        }],
      }, async (c) => {
        await oneError(
          readBlob(c, single, bigLayer.descriptor),
          "size",
          `blob ${bigLayer.descriptor.digest} is 1000 bytes at the registry, its descriptor states ${bigLayer.descriptor.size}`,
        );
      });
    });

    await t.step(
      "a truncated body without Content-Length: resumed, then verified",
      async () => {
        // The proxy cuts the body short (no length given): the client asks for
        // the rest with Range and the whole blob verifies.
        await run({
          hook: async (request, { kind, forward }) => {
            if (kind !== "blob" || request.headers.has("range")) {
              return undefined;
            }
            const upstream = await forward(request);
            const bytes = (await upstream.bytes()).slice(0, 5000);
            return new Response(
              new ReadableStream({
                start(controller) {
                  controller.enqueue(bytes);
                  controller.close();
                },
              }),
              { status: 200 },
            );
          },
        }, async (c) => {
          assert.deepEqual(
            await readBlob(c, single, bigLayer.descriptor),
            bigLayer.blob,
          );
        });
        const blobs = proxy.requests.filter((r) => r.kind === "blob");
        assert.equal(blobs[1]?.headers.range, "bytes=5000-");
      },
    );

    await t.step(
      "a stalled response: abandoned after the idle timeout, retried",
      async () => {
        let stalls = 0;
        const stalled: Promise<void>[] = [];
        const wait = (ms: number) =>
          new Promise<void>((r) => setTimeout(r, ms));
        await run({
          hook: async (request, { kind, forward }) => {
            if (kind !== "blob" || stalls >= 2) return undefined;
            stalls++;
            if (stalls === 1) {
              // No headers for a while.
              const done = wait(600);
              stalled.push(done);
              await done;
              return new Response("late", { status: 503 });
            }
            // Headers and some bytes, then nothing for a while.
            const upstream = await forward(request);
            const bytes = (await upstream.bytes()).slice(0, 7000);
            const done = wait(600);
            stalled.push(done);
            return new Response(
              new ReadableStream({
                async start(controller) {
                  controller.enqueue(bytes);
                  await done;
                  controller.close();
                },
              }),
              { status: 200 },
            );
          },
        }, async (c) => {
          assert.deepEqual(
            await readBlob(c, single, bigLayer.descriptor),
            bigLayer.blob,
          );
        }, { retry: { scale: 0.001, idleTimeoutMs: 150 } });
        await Promise.all(stalled);
        const blobs = proxy.requests.filter((r) => r.kind === "blob");
        assert.equal(blobs.length, 3);
        assert.equal(blobs[2]?.headers.range, "bytes=7000-");
      },
    );

    await t.step(
      "an oversized manifest is refused (Content-Length)",
      async () => {
        await run({
          rules: [{ match: { kind: "manifest" }, fault: { type: "oversize" } }],
        }, async (c) => {
          await oneError(
            c.getManifest(single),
            "too-large",
            `manifest is larger than ${MAX_MANIFEST_BYTES} bytes; refusing it`,
          );
        });
      },
    );

    await t.step(
      "an oversized manifest is refused (counted while reading)",
      async () => {
        await run({
          rules: [{
            match: { kind: "manifest" },
            fault: { type: "oversize", chunked: true },
          }],
        }, async (c) => {
          await oneError(c.getManifest(single), "too-large", "refusing it");
        });
      },
    );

    await t.step("a schema 1 manifest is refused clearly", async () => {
      const schema1 = JSON.stringify({
        schemaVersion: 1,
        name: "test/single",
        tag: "1",
        architecture: "amd64",
        fsLayers: [],
        history: [],
      });
      await run({
        hook: (_request, { kind }) =>
          kind === "manifest"
            ? new Response(schema1, {
              headers: {
                "content-type":
                  "application/vnd.docker.distribution.manifest.v1+prettyjws",
              },
            })
            : undefined,
      }, async (c) => {
        const error = await oneError(
          resolveImage(c, single, AMD64),
          "unsupported",
          "the image has a Docker schema 1 manifest, which polythene does not support",
        );
        assertIncludes(error.hint ?? "", "Push the image again");
      });
    });
  },
);

testNeeding(
  registryMissing({ tls: true, htpasswd: USER }),
  "registry client: Basic auth over TLS with htpasswd",
  async (t) => {
    await using registry = await startRegistry({ tls: true, htpasswd: USER });
    const images = await makeImages();
    await pushImage(registry, "test/single", "1", images.single);
    const ref = parseReference(`${registry.host}/test/single:1`);
    const caPem = registry.tls!.caPem;
    const dir = await Deno.makeTempDir({ prefix: "polythene-auth-" });
    const authFile = `${dir}/auth.json`;
    await Deno.writeTextFile(
      authFile,
      JSON.stringify({
        auths: {
          [`https://${registry.host}`]: {
            username: USER.user,
            password: USER.password,
          },
        },
      }),
    );
    const credentials = (registryName: string, repository: string) =>
      findCredentials(registryName, repository, {
        env: (name) => (name === "REGISTRY_AUTH_FILE" ? authFile : undefined),
      });
    try {
      await t.step(
        "the CA trusted, credentials from the auth file",
        async () => {
          const { client: c, logs } = client({ caCerts: [caPem], credentials });
          await pullAll(c, ref, images.single);
          secretsAbsent(logs, [USER.password]);
          await c.close();
        },
      );

      await t.step("the CA from a certs.d directory", async () => {
        const certsDir = `${dir}/certs.d`;
        await Deno.mkdir(`${certsDir}/${registry.host}`, { recursive: true });
        await Deno.writeTextFile(`${certsDir}/${registry.host}/ca.crt`, caPem);
        const { client: c } = client({ certsDirs: [certsDir], credentials });
        await pullAll(c, ref, images.single);
        await c.close();
      });

      await t.step(
        "an untrusted certificate: one clear TLS error",
        async () => {
          const { client: c } = client({ credentials });
          const error = await oneError(
            resolveImage(c, ref, AMD64),
            "tls",
            `cannot connect to ${registry.host}`,
          );
          assertIncludes(error.hint ?? "", "--tls-verify=false");
          await c.close();
        },
      );

      await t.step(
        "--tls-verify=false: the certificate is not checked",
        async () => {
          const { client: c } = client({ tlsVerify: false, credentials });
          await pullAll(c, ref, images.single);
          await c.close();
        },
      );

      await t.step(
        "no credentials: the registry requires a login",
        async () => {
          const { client: c } = client({ caCerts: [caPem] });
          const error = await oneError(
            resolveImage(c, ref, AMD64),
            "unauthorized",
            `${registry.host} requires a login and no credentials were found for it`,
          );
          assertIncludes(error.hint ?? "", `podman login ${registry.host}`);
          await c.close();
        },
      );

      await t.step("wrong credentials: refused, naming the file", async () => {
        const { client: c } = client({
          caCerts: [caPem],
          credentials: () =>
            Promise.resolve({
              source: authFile,
              username: USER.user,
              password: "not it",
            }),
        });
        const error = await oneError(
          resolveImage(c, ref, AMD64),
          "unauthorized",
          `${registry.host} refused the credentials from ${authFile} (401)`,
        );
        secretsAbsent([error.message], ["not it"]);
        await c.close();
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

testNeeding(
  registryMissing({ tls: true }),
  "registry client: a redirect from https to plain http is refused",
  async () => {
    await using registry = await startRegistry();
    const images = await makeImages();
    await pushImage(registry, "test/single", "1", images.single);
    const { makeTlsFiles } = await import("../helpers/registry.ts");
    const dir = await Deno.makeTempDir({ prefix: "polythene-tls-" });
    let proxy: FaultProxy | undefined;
    try {
      const tls = await makeTlsFiles(dir);
      proxy = startFaultProxy(registry, { tls });
      proxy.plan({
        rules: [{ match: { kind: "blob" }, fault: { type: "redirect" } }],
      });
      const { client: c } = client({ caCerts: [tls.caPem] });
      const ref = parseReference(`${proxy.host}/test/single:1`);
      await oneError(
        resolveImage(c, ref, AMD64),
        "redirect",
        `refusing a redirect from https to plain http (${proxy.redirectHost})`,
      );
      assert.equal(proxy.redirected().length, 0);
      await c.close();
    } finally {
      await proxy?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
