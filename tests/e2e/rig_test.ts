/**
 * Proves the pull test rig works with real parts: images built in memory
 * are pushed to a real `docker-registry` and read back with `fetch` and
 * skopeo; the TLS + htpasswd registry refuses anonymous clients and accepts
 * credentials; the fault proxy produces each fault as a client sees it; the
 * layout and archive writers make what skopeo and umoci read.
 *
 * Needs docker-registry, openssl, perl, zstd, skopeo and umoci; a missing
 * one skips its test by name, and fails it under `CI=true`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { onPath, testNeeding } from "../helpers/fixtures.ts";
import {
  buildImage,
  buildIndex,
  type BuiltImage,
  gunzip,
  MEDIA_TYPES,
  runTool,
  sha256Digest,
  unzstd,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
} from "../helpers/oci_image.ts";
import {
  basicAuth,
  makeTlsFiles,
  pushImage,
  registryFetch,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import { MANIFEST_LIMIT, startFaultProxy } from "../helpers/fault_proxy.ts";
import type { TarEntry } from "../helpers/tar_writer.ts";

function lacking(...programs: string[]): string | undefined {
  const missing = programs.filter((p) => !onPath(p));
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
}

const ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerList,
].join(", ");

const FILES: TarEntry[] = [
  { name: "etc/", type: "dir" },
  { name: "etc/hello", content: "hello from the rig\n" },
  { name: "bin/", type: "dir" },
  { name: "bin/sh", type: "symlink", linkname: "busybox" },
];

/** Content that does not compress: a blob big enough to cut mid-way. */
function noise(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  }
  return bytes;
}

function decoded(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes));
}

testNeeding(
  lacking("docker-registry", "zstd"),
  "rig: a pushed OCI image reads back with matching digests and diff_ids",
  async () => {
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [
        { entries: FILES, compression: "gzip" },
        {
          entries: [{ name: "etc/zstd", content: "z\n" }],
          compression: "zstd",
        },
        {
          entries: [{ name: "etc/plain", content: "p\n" }],
          compression: "none",
        },
        {
          entries: [{ name: "big", content: noise(100_000) }],
          compression: "gzip",
          gzipMembers: 3,
        },
      ],
      config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"], WorkingDir: "/" },
    });
    assert.equal(
      await pushImage(registry, "rig/image", "1", image),
      image.digest,
    );

    const response = await registryFetch(
      registry,
      "/v2/rig/image/manifests/1",
      { headers: { accept: ACCEPT } },
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), MEDIA_TYPES.ociManifest);
    assert.equal(response.headers.get("docker-content-digest"), image.digest);
    const manifestBytes = await response.bytes();
    assert.equal(await sha256Digest(manifestBytes), image.digest);
    assert.deepEqual(
      (decoded(manifestBytes) as { layers: { mediaType: string }[] }).layers
        .map((l) => l.mediaType),
      [
        MEDIA_TYPES.ociLayerGzip,
        MEDIA_TYPES.ociLayerZstd,
        MEDIA_TYPES.ociLayer,
        MEDIA_TYPES.ociLayerGzip,
      ],
    );

    const config = await registryFetch(
      registry,
      `/v2/rig/image/blobs/${image.configDescriptor.digest}`,
    );
    const configBytes = await config.bytes();
    assert.equal(
      await sha256Digest(configBytes),
      image.configDescriptor.digest,
    );
    const diffIds = (decoded(configBytes) as { rootfs: { diff_ids: string[] } })
      .rootfs.diff_ids;

    const uncompress = [gunzip, unzstd, (b: Uint8Array) => b, gunzip];
    for (const [i, layer] of image.layers.entries()) {
      const blob = await (await registryFetch(
        registry,
        `/v2/rig/image/blobs/${layer.descriptor.digest}`,
      )).bytes();
      assert.equal(blob.length, layer.descriptor.size);
      assert.equal(await sha256Digest(blob), layer.descriptor.digest);
      const tar = await uncompress[i]!(blob);
      assert.equal(await sha256Digest(tar), diffIds[i]);
    }
  },
);

testNeeding(
  lacking("docker-registry", "skopeo"),
  "rig: a multi-arch index with attestations and a Docker schema 2 list push and read back",
  async () => {
    await using registry = await startRegistry();
    const layer = { entries: FILES, compression: "gzip" as const };
    const amd64 = await buildImage({ layers: [layer] });
    const arm64 = await buildImage({
      layers: [layer],
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
    const index = await buildIndex([amd64, arm64]);
    await pushImage(registry, "rig/multi", "oci", index);

    const raw = await runTool([
      "skopeo",
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/rig/multi:oci`,
    ]);
    assert.equal(await sha256Digest(raw), index.digest);
    const platforms = (decoded(raw) as {
      manifests: {
        platform: { os: string; architecture: string };
        annotations?: Record<string, string>;
      }[];
    }).manifests.map((m) => ({
      platform: `${m.platform.os}/${m.platform.architecture}`,
      type: m.annotations?.["vnd.docker.reference.type"],
    }));
    assert.deepEqual(platforms, [
      { platform: "linux/amd64", type: undefined },
      { platform: "linux/arm64", type: undefined },
      { platform: "unknown/unknown", type: "attestation-manifest" },
      { platform: "unknown/unknown", type: "attestation-manifest" },
    ]);
    for (const child of index.children) {
      const response = await registryFetch(
        registry,
        `/v2/rig/multi/manifests/${child.digest}`,
        { headers: { accept: ACCEPT } },
      );
      assert.equal(await sha256Digest(await response.bytes()), child.digest);
    }

    // skopeo picks the image for a platform out of the index.
    const inspected = decoded(
      await runTool([
        "skopeo",
        "inspect",
        "--tls-verify=false",
        "--override-arch=arm64",
        "--override-variant=v8",
        `docker://${registry.host}/rig/multi:oci`,
      ]),
    ) as { Architecture: string; Layers: string[] };
    assert.equal(inspected.Architecture, "arm64");
    assert.deepEqual(
      inspected.Layers,
      arm64.manifest.layers.map((l) => l.digest),
    );

    const docker = await buildImage({ layers: [layer], format: "docker" });
    const list = await buildIndex([docker]);
    assert.deepEqual(list.children.map((c) => c.mediaType), [
      MEDIA_TYPES.dockerManifest,
    ]);
    await pushImage(registry, "rig/multi", "docker", list);
    const response = await registryFetch(
      registry,
      "/v2/rig/multi/manifests/docker",
      { headers: { accept: ACCEPT } },
    );
    assert.equal(response.headers.get("content-type"), MEDIA_TYPES.dockerList);
    assert.equal(await sha256Digest(await response.bytes()), list.digest);
    assert.equal(
      docker.manifest.layers[0]?.mediaType,
      MEDIA_TYPES.dockerLayerGzip,
    );
    assert.equal(docker.configDescriptor.mediaType, MEDIA_TYPES.dockerConfig);
  },
);

testNeeding(
  registryMissing({ tls: true, htpasswd: { user: "", password: "" } }),
  "rig: the TLS and htpasswd registry rejects anonymous clients and accepts credentials",
  async () => {
    const credentials = { user: "rig-user", password: "pass: wörd" };
    await using registry = await startRegistry({
      tls: true,
      htpasswd: credentials,
    });
    assert.match(registry.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(registry.caFile);

    // Without the CA, the certificate is not trusted.
    await assert.rejects(fetch(`${registry.url}/v2/`));

    const anonymous = { ...registry, credentials: undefined };
    const refused = await registryFetch(anonymous, "/v2/");
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Basic /);

    const wrong = await registryFetch(anonymous, "/v2/", {
      headers: {
        authorization: basicAuth({ ...credentials, password: "wrong" }),
      },
    });
    assert.equal(wrong.status, 401);

    assert.equal((await registryFetch(registry, "/v2/")).status, 200);

    // localhost is in the certificate too.
    const client = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(registry.caFile)],
    });
    try {
      const viaName = await fetch(
        `https://localhost:${registry.host.split(":")[1]}/v2/`,
        { client, headers: { authorization: basicAuth(credentials) } },
      );
      await viaName.body?.cancel();
      assert.equal(viaName.status, 200);
    } finally {
      client.close();
    }

    const image = await buildImage({
      layers: [{ entries: FILES, compression: "gzip" }],
    });
    await assert.rejects(
      pushImage(anonymous, "rig/private", "1", image),
      /401/,
    );
    await pushImage(registry, "rig/private", "1", image);
    const manifest = await registryFetch(
      registry,
      "/v2/rig/private/manifests/1",
      { headers: { accept: ACCEPT } },
    );
    assert.equal(await sha256Digest(await manifest.bytes()), image.digest);
  },
);

testNeeding(
  lacking("docker-registry"),
  "rig: the fault proxy produces each fault as a client sees it",
  async (t) => {
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [{
        entries: [{ name: "noise", content: noise(256 * 1024) }],
        compression: "gzip",
      }],
    });
    await pushImage(registry, "rig/faults", "1", image);
    const blob = image.layers[0]!.descriptor;
    const blobPath = `/v2/rig/faults/blobs/${blob.digest}`;
    const manifestPath = "/v2/rig/faults/manifests/1";
    await using proxy = startFaultProxy(registry);
    const get = (path: string, init: RequestInit = {}) =>
      fetch(new URL(path, proxy.url), init);
    const reset = () => {
      proxy.plan({});
      proxy.clear();
    };

    await t.step("no fault: the registry passes through", async () => {
      reset();
      const manifest = await get(manifestPath, { headers: { accept: ACCEPT } });
      assert.equal(manifest.status, 200);
      assert.equal(await sha256Digest(await manifest.bytes()), image.digest);
      const body = await (await get(blobPath)).bytes();
      assert.equal(await sha256Digest(body), blob.digest);
      const ranged = await get(blobPath, { headers: { range: "bytes=1000-" } });
      assert.equal(ranged.status, 206);
      assert.equal((await ranged.bytes()).length, blob.size - 1000);
      assert.deepEqual(
        proxy.requests.map((r) => [r.kind, r.status]),
        [["manifest", 200], ["blob", 200], ["blob", 206]],
      );
    });

    await t.step(
      "401 Bearer challenge with its own token endpoint",
      async () => {
        reset();
        const credentials = { user: "puller", password: "s3cret" };
        proxy.plan({ bearer: { credentials } });

        const ping = await get("/v2/");
        await ping.body?.cancel();
        assert.equal(ping.status, 401);
        assert.equal(
          ping.headers.get("www-authenticate"),
          `Bearer realm="${proxy.tokenUrl}",service="fault-proxy"`,
        );
        const challenged = await get(manifestPath);
        await challenged.body?.cancel();
        assert.match(
          challenged.headers.get("www-authenticate") ?? "",
          /,scope="repository:rig\/faults:pull"$/,
        );

        const tokenUrl =
          `${proxy.tokenUrl}?service=fault-proxy&scope=repository:rig/faults:pull`;
        const anonymous = await fetch(tokenUrl);
        await anonymous.body?.cancel();
        assert.equal(anonymous.status, 401);
        const wrong = await fetch(tokenUrl, {
          headers: {
            authorization: basicAuth({ ...credentials, password: "no" }),
          },
        });
        await wrong.body?.cancel();
        assert.equal(wrong.status, 401);
        const issued = await fetch(tokenUrl, {
          headers: { authorization: basicAuth(credentials) },
        });
        assert.equal(issued.status, 200);
        const { token, access_token } = await issued.json();
        assert.equal(token, access_token);
        assert.deepEqual(proxy.tokens, [token]);

        const bogus = await get("/v2/", {
          headers: { authorization: "Bearer not-a-token" },
        });
        await bogus.body?.cancel();
        assert.equal(bogus.status, 401);
        const bearer = { authorization: `Bearer ${token}` };
        const pinged = await get("/v2/", { headers: bearer });
        await pinged.body?.cancel();
        assert.equal(pinged.status, 200);
        const manifest = await get(manifestPath, {
          headers: { ...bearer, accept: ACCEPT },
        });
        assert.equal(await sha256Digest(await manifest.bytes()), image.digest);

        // Without credentials configured, tokens are anonymous.
        proxy.plan({ bearer: {} });
        const open = await fetch(`${proxy.tokenUrl}?service=fault-proxy`);
        assert.equal(open.status, 200);
        assert.ok((await open.json()).token);
      },
    );

    await t.step("404", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "manifest" },
          fault: { type: "status", status: 404 },
        }],
      });
      const response = await get(manifestPath);
      assert.equal(response.status, 404);
      assert.equal((await response.json()).errors[0].code, "MANIFEST_UNKNOWN");
    });

    await t.step(
      "429 with Retry-After in seconds, then as an HTTP date",
      async () => {
        reset();
        const later = new Date(Date.now() + 3_000);
        proxy.plan({
          rules: [
            {
              times: 1,
              fault: { type: "status", status: 429, retryAfter: 2 },
            },
            {
              times: 1,
              fault: { type: "status", status: 429, retryAfter: later },
            },
          ],
        });
        const first = await get(blobPath);
        await first.body?.cancel();
        assert.equal(first.status, 429);
        assert.equal(first.headers.get("retry-after"), "2");
        const second = await get(blobPath);
        await second.body?.cancel();
        assert.equal(second.status, 429);
        const date = Date.parse(second.headers.get("retry-after") ?? "");
        assert.equal(date, Math.floor(later.getTime() / 1000) * 1000);
        const third = await get(blobPath);
        assert.equal(await sha256Digest(await third.bytes()), blob.digest);
      },
    );

    await t.step("500 twice, then the blob", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "blob", method: "GET" },
          times: 2,
          fault: { type: "status", status: 500 },
        }],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await get(blobPath);
        statuses.push(response.status);
        await response.body?.cancel();
      }
      assert.deepEqual(statuses, [500, 500, 200]);
    });

    await t.step("connection reset mid-blob", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "blob" },
          times: 1,
          fault: { type: "reset", afterBytes: 10_000 },
        }],
      });
      const response = await get(blobPath);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), String(blob.size));
      let received = 0;
      await assert.rejects(async () => {
        for await (const chunk of response.body!) received += chunk.length;
      }, TypeError);
      assert.ok(received <= 10_000, `received ${received}`);
      // The next request is served in full: resume with Range works.
      const rest = await get(blobPath, {
        headers: { range: `bytes=${received}-` },
      });
      assert.equal(rest.status, 206);
      assert.equal((await rest.bytes()).length, blob.size - received);
    });

    await t.step("a server that ignores Range", async () => {
      reset();
      proxy.plan({ rules: [{ fault: { type: "ignore-range" } }] });
      const response = await get(blobPath, {
        headers: { range: "bytes=1000-" },
      });
      assert.equal(response.status, 200);
      assert.equal(await sha256Digest(await response.bytes()), blob.digest);
    });

    await t.step("redirect of blob GETs to a second host", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "blob", method: "GET" },
          fault: { type: "redirect" },
        }],
      });
      const secret = "Bearer secret-token";
      const response = await get(blobPath, {
        redirect: "manual",
        headers: { authorization: secret },
      });
      await response.body?.cancel();
      assert.equal(response.status, 307);
      const location = new URL(response.headers.get("location") ?? "");
      assert.equal(location.host, proxy.redirectHost);
      assert.notEqual(location.host, proxy.host);
      assert.equal(location.pathname, blobPath);

      // A careful client follows without Authorization.
      const followed = await fetch(location);
      assert.equal(await sha256Digest(await followed.bytes()), blob.digest);
      assert.equal(proxy.redirected().length, 1);
      assert.equal(proxy.redirected()[0]?.headers.authorization, undefined);
      // A careless one is caught by the record.
      const leaked = await fetch(location, {
        headers: { authorization: secret },
      });
      await leaked.body?.cancel();
      assert.equal(proxy.redirected()[1]?.headers.authorization, secret);
    });

    await t.step("a chain of 11 redirects on the proxy itself", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "redirect", to: "self", hops: 11 },
        }],
      });
      let url = new URL(blobPath, proxy.url);
      let hops = 0;
      while (true) {
        const response = await fetch(url, { redirect: "manual" });
        if (response.status !== 307) {
          assert.equal(await sha256Digest(await response.bytes()), blob.digest);
          break;
        }
        await response.body?.cancel();
        url = new URL(response.headers.get("location") ?? "", url);
        hops++;
      }
      assert.equal(hops, 11);
    });

    await t.step("tampered blob", async () => {
      reset();
      proxy.plan({
        rules: [{ match: { kind: "blob" }, fault: { type: "tamper" } }],
      });
      const response = await get(blobPath);
      assert.equal(response.status, 200);
      const body = await response.bytes();
      assert.equal(body.length, blob.size);
      assert.notEqual(await sha256Digest(body), blob.digest);
    });

    await t.step("truncated blob", async () => {
      reset();
      proxy.plan({
        rules: [{
          match: { kind: "blob" },
          fault: { type: "truncate", keepBytes: 5_000 },
        }],
      });
      const response = await get(blobPath);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), "5000");
      assert.equal((await response.bytes()).length, 5_000);
    });

    await t.step(
      "oversized manifest, with and without Content-Length",
      async () => {
        for (const chunked of [false, true]) {
          reset();
          proxy.plan({
            rules: [{
              match: { kind: "manifest" },
              fault: { type: "oversize", chunked },
            }],
          });
          const response = await get(manifestPath, {
            headers: { accept: ACCEPT },
          });
          assert.equal(response.status, 200);
          assert.equal(response.headers.has("content-length"), !chunked);
          const body = await response.bytes();
          assert.ok(body.length > MANIFEST_LIMIT, `${body.length} bytes`);
          assert.equal(
            (decoded(body) as { schemaVersion: number }).schemaVersion,
            2,
          );
        }
      },
    );

    await t.step("a per-request hook", async () => {
      reset();
      proxy.plan({
        hook: async (request, { kind, forward }) => {
          if (kind !== "manifest") return undefined;
          const upstream = await forward(request);
          const headers = new Headers(upstream.headers);
          headers.set("x-hooked", "1");
          return new Response(upstream.body, {
            status: upstream.status,
            headers,
          });
        },
      });
      const response = await get(manifestPath, { headers: { accept: ACCEPT } });
      assert.equal(response.headers.get("x-hooked"), "1");
      assert.equal(await sha256Digest(await response.bytes()), image.digest);
    });
  },
);

testNeeding(
  lacking("docker-registry", "openssl"),
  "rig: a TLS fault proxy redirects from https to the plain-http second host",
  async () => {
    await using registry = await startRegistry({ tls: false });
    const tlsDir = await Deno.makeTempDir({ prefix: "polythene-rig-tls-" });
    try {
      const tls = await makeTlsFiles(tlsDir);
      await using proxy = startFaultProxy(registry, { tls });
      proxy.plan({
        rules: [{ match: { kind: "blob" }, fault: { type: "redirect" } }],
      });
      const client = Deno.createHttpClient({ caCerts: [tls.caPem] });
      try {
        const ping = await fetch(`${proxy.url}/v2/`, { client });
        await ping.body?.cancel();
        assert.equal(ping.status, 200);
        const response = await fetch(
          `${proxy.url}/v2/rig/x/blobs/sha256:${"0".repeat(64)}`,
          { client, redirect: "manual" },
        );
        await response.body?.cancel();
        assert.equal(response.status, 307);
        assert.match(response.headers.get("location") ?? "", /^http:\/\//);
        assert.match(proxy.url, /^https:\/\//);
      } finally {
        client.close();
      }
    } finally {
      await Deno.remove(tlsDir, { recursive: true });
    }
  },
);

testNeeding(
  lacking("skopeo", "umoci"),
  "rig: OCI layout, oci-archive and docker-archive read by skopeo and umoci",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "polythene-rig-layout-" });
    try {
      const image: BuiltImage = await buildImage({
        layers: [
          { entries: FILES, compression: "gzip" },
          {
            entries: [{ name: "etc/hello", content: "overridden\n" }],
            compression: "none",
          },
        ],
        config: { Env: ["PATH=/bin", "RIG=1"] },
      });
      const arm64 = await buildImage({
        layers: [{ entries: FILES, compression: "gzip" }],
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      });
      const index = await buildIndex([image, arm64]);

      const layout = `${dir}/layout`;
      await writeOciLayout(layout, image, "single");
      await writeOciLayout(layout, index, "multi");
      const raw = await runTool([
        "skopeo",
        "inspect",
        "--raw",
        `oci:${layout}:single`,
      ]);
      assert.equal(await sha256Digest(raw), image.digest);
      const multi = await runTool([
        "skopeo",
        "inspect",
        "--raw",
        `oci:${layout}:multi`,
      ]);
      assert.equal(await sha256Digest(multi), index.digest);

      // umoci verifies every blob and applies the layers in order.
      await runTool([
        "umoci",
        "unpack",
        "--rootless",
        "--image",
        `${layout}:single`,
        `${dir}/bundle`,
      ]);
      assert.equal(
        await Deno.readTextFile(`${dir}/bundle/rootfs/etc/hello`),
        "overridden\n",
      );

      const ociArchive = `${dir}/image.oci.tar`;
      await writeOciArchive(ociArchive, image, "single");
      const fromArchive = await runTool([
        "skopeo",
        "inspect",
        "--raw",
        `oci-archive:${ociArchive}:single`,
      ]);
      assert.equal(await sha256Digest(fromArchive), image.digest);

      for (const style of ["podman", "legacy"] as const) {
        const dockerArchive = `${dir}/image-${style}.docker.tar`;
        await writeDockerArchive(dockerArchive, image, ["rig/archive:1"], {
          style,
        });
        const inspected = decoded(
          await runTool([
            "skopeo",
            "inspect",
            `docker-archive:${dockerArchive}`,
          ]),
        ) as { Layers: string[]; Env: string[]; RepoTags: string[] };
        assert.deepEqual(inspected.Layers, image.layers.map((l) => l.diffId));
        assert.deepEqual(inspected.Env, ["PATH=/bin", "RIG=1"]);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
