import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import {
  decompressStream,
  layerCompression,
  LayerFormatError,
  LayerMediaTypeError,
  sniffCompression,
} from "../../../src/image/layers/mod.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { rejection } from "./_sandbox.ts";

const OCI = "application/vnd.oci.image.layer.v1.tar";
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("layerCompression: OCI, Docker and nondistributable types", () => {
  assertEquals(layerCompression(OCI), "tar");
  assertEquals(layerCompression(`${OCI}+gzip`), "gzip");
  assertEquals(layerCompression(`${OCI}+zstd`), "zstd");
  assertEquals(
    layerCompression(
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ),
    "gzip",
  );
  assertEquals(
    layerCompression(
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    ),
    "zstd",
  );
  assertEquals(
    layerCompression("application/vnd.oci.image.layer.nondistributable.v1.tar"),
    "tar",
  );
  assertEquals(
    layerCompression("application/vnd.docker.image.rootfs.diff.tar.gzip"),
    "gzip",
  );
  assertEquals(
    layerCompression(
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    ),
    "gzip",
  );
  assertEquals(
    layerCompression(" Application/VND.OCI.image.layer.v1.tar+GZIP "),
    "gzip",
  );
});

Deno.test("layerCompression: encrypted and unknown types are refused", () => {
  const encrypted = assertThrows(
    () => layerCompression(`${OCI}+gzip+encrypted`),
    LayerMediaTypeError,
  );
  assert.match(encrypted.message, /encrypted/);
  assert.ok(encrypted.hint);
  assertThrows(() => layerCompression(`${OCI}+encrypted`), LayerMediaTypeError);
  for (
    const type of [
      `${OCI}+bzip2`,
      "application/octet-stream",
      "",
      "application/vnd.oci.image.config.v1+json",
    ]
  ) {
    const error = assertThrows(
      () => layerCompression(type),
      LayerMediaTypeError,
    );
    assert.match(error.message, /unknown media type/);
    assertEquals(error.exitCode, 1);
  }
});

Deno.test("sniffCompression: magic bytes", () => {
  assertEquals(sniffCompression(new Uint8Array([0x1f, 0x8b, 8, 0])), "gzip");
  assertEquals(
    sniffCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])),
    "zstd",
  );
  assertEquals(sniffCompression(text("etc/")), "tar");
  assertEquals(sniffCompression(new Uint8Array()), "tar");
});

async function decode(mediaType: string, bytes: Uint8Array, chunk = 64 * 1024) {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < bytes.length; o += chunk) {
        c.enqueue(bytes.slice(o, o + chunk));
      }
      c.close();
    },
  });
  return new TextDecoder().decode(
    new Uint8Array(
      await new Response(decompressStream(mediaType, stream)).arrayBuffer(),
    ),
  );
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

Deno.test("decompressStream: every member of a concatenated gzip stream", async () => {
  const blob = concat(
    gzipSync(text("hello ")),
    gzipSync(text("gzip ")),
    gzipSync(text("world")),
  );
  assertEquals(await decode(`${OCI}+gzip`, blob), "hello gzip world");
  assertEquals(await decode(`${OCI}+gzip`, blob, 1), "hello gzip world");
});

Deno.test("decompressStream: every zstd frame, skippable frames skipped", async () => {
  const skippable = concat(
    new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]),
    text("toc"),
  );
  const blob = concat(
    zstdCompressSync(text("hello ")),
    skippable,
    zstdCompressSync(text("zstd ")),
    zstdCompressSync(new Uint8Array()),
    zstdCompressSync(text("world")),
  );
  for (const chunk of [1, 2, 3, 7, 64 * 1024]) {
    assertEquals(
      await decode(`${OCI}+zstd`, blob, chunk),
      "hello zstd world",
      `chunk ${chunk}`,
    );
  }
});

Deno.test("decompressStream: plain tar media types are sniffed", async () => {
  assertEquals(await decode(OCI, gzipSync(text("was gzip"))), "was gzip");
  assertEquals(
    await decode(OCI, zstdCompressSync(text("was zstd"))),
    "was zstd",
  );
  assertEquals(await decode(OCI, text("plain")), "plain");
  assertEquals(await decode(OCI, text("ab"), 1), "ab");
  assertEquals(await decode(OCI, new Uint8Array()), "");
});

Deno.test("decompressStream: corrupt or truncated data is a LayerFormatError", async () => {
  const gz = gzipSync(text("x".repeat(1000)));
  const zs = zstdCompressSync(text("x".repeat(1000)));
  const cases: [string, Uint8Array][] = [
    [`${OCI}+gzip`, text("not gzip at all")],
    [`${OCI}+gzip`, gz.subarray(0, gz.length - 6)],
    [`${OCI}+zstd`, text("not zstd at all")],
    [`${OCI}+zstd`, zs.subarray(0, zs.length - 3)],
    [`${OCI}+zstd`, concat(zs, text("trailing"))],
  ];
  for (const [type, bytes] of cases) {
    const error = await rejection(() => decode(type, bytes));
    assert.ok(error instanceof LayerFormatError, `${type}: ${error}`);
  }
});

Deno.test("decompressStream: a source error passes through unchanged", async () => {
  const boom = new Error("network reset");
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(gzipSync(text("partial")).subarray(0, 10));
      c.error(boom);
    },
  });
  const error = await rejection(() =>
    new Response(decompressStream(`${OCI}+gzip`, source)).arrayBuffer()
  );
  assert.equal(error, boom);
});
