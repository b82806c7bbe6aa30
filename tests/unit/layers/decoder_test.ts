import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { LayerDecoder } from "../../../src/image/layers/decoder.ts";
import { LayerFormatError } from "../../../src/image/layers/mod.ts";
import { rejection } from "./_sandbox.ts";

const OCI = "application/vnd.oci.image.layer.v1.tar";
const text = (s: string) => new TextEncoder().encode(s);
const sha256 = (bytes: Uint8Array) =>
  createHash("sha256").update(bytes).digest("hex");

/** `bytes` as a stream of `chunk`-byte pieces; `cancelled` tells if read off. */
function source(bytes: Uint8Array, chunk = 64 * 1024) {
  let offset = 0;
  const state = { cancelled: false as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (offset >= bytes.length) return c.close();
      c.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
    cancel(reason) {
      state.cancelled = reason ?? true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

async function readAll(stream: ReadableStream<Uint8Array>) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("LayerDecoder: gzip and zstd layers decode on the worker, with the content's digest", async () => {
  const decoder = new LayerDecoder();
  try {
    const content = text("layer bytes ".repeat(50_000));
    for (
      const [type, blob] of [
        [`${OCI}+gzip`, gzipSync(content)],
        [`${OCI}+zstd`, zstdCompressSync(content)],
        [OCI, gzipSync(content)], // a docker-save layer: sniffed
      ] as const
    ) {
      const decoded = decoder.decode(type, source(blob, 1000).stream, "sha256");
      const out = await readAll(decoded.stream);
      assert.equal(out.length, content.length, type);
      assert.deepEqual(out, content, type);
      assert.equal(decoded.digest(), sha256(content), type);
    }
  } finally {
    decoder.close();
  }
});

Deno.test("LayerDecoder: corrupt data is a LayerFormatError, and the next layer still decodes", async () => {
  const decoder = new LayerDecoder();
  try {
    const gz = gzipSync(text("x".repeat(100_000)));
    for (
      const bytes of [text("not gzip at all"), gz.subarray(0, gz.length - 6)]
    ) {
      const decoded = decoder.decode(
        `${OCI}+gzip`,
        source(bytes).stream,
        "sha256",
      );
      const error = await rejection(() => readAll(decoded.stream));
      assert.ok(error instanceof LayerFormatError, String(error));
      assert.match(error.message, /^Malformed layer: /);
      assert.equal(decoded.digest(), undefined, "no digest for a failed layer");
    }
    const good = decoder.decode(
      `${OCI}+gzip`,
      source(gzipSync(text("after"))).stream,
      "sha256",
    );
    assert.equal(new TextDecoder().decode(await readAll(good.stream)), "after");
  } finally {
    decoder.close();
  }
});

Deno.test("LayerDecoder: a source error passes through unchanged; cancelling cancels the source", async () => {
  const decoder = new LayerDecoder();
  try {
    const boom = new Error("network reset");
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(gzipSync(text("partial")).subarray(0, 10));
        c.error(boom);
      },
    });
    const decoded = decoder.decode(`${OCI}+gzip`, failing, "sha256");
    assert.equal(await rejection(() => readAll(decoded.stream)), boom);

    // A bomb read one piece at a time: cancel after the first.
    const bomb = source(gzipSync(new Uint8Array(64 * 1024 * 1024)), 4096);
    const big = decoder.decode(`${OCI}+gzip`, bomb.stream, "sha256");
    const reader = big.stream.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    await reader.cancel("enough");
    assert.equal(bomb.state.cancelled, "enough");
  } finally {
    decoder.close();
  }
});
