import { assertEquals, assertIncludes } from "../../../helpers/assert.ts";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  digestOf,
  readLimited,
  type VerificationError,
  verifyingStream,
} from "../../../../src/image/registry/verify.ts";

const bytes = new TextEncoder().encode("hello, verified world\n".repeat(50));
const digest = digestOf(bytes);

function chunked(data: Uint8Array, size = 100): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

Deno.test("content that matches passes through unchanged", async () => {
  const out = await new Response(
    chunked(bytes).pipeThrough(verifyingStream({ digest, size: bytes.length })),
  ).bytes();
  assertEquals(out, bytes);
});

Deno.test("a flipped byte fails at the end with a digest error", async () => {
  const tampered = bytes.slice();
  tampered[10] = (tampered[10] ?? 0) ^ 0xff;
  await assert.rejects(
    drain(
      chunked(tampered).pipeThrough(
        verifyingStream({ digest, size: bytes.length }),
      ),
    ),
    (error: VerificationError) => {
      assertEquals(error.kind, "digest");
      assertIncludes(error.message, `blob ${digest} does not match its digest`);
      return true;
    },
  );
});

Deno.test("a short stream fails at the end with a size error", async () => {
  await assert.rejects(
    drain(
      chunked(bytes.slice(0, 500)).pipeThrough(
        verifyingStream({ digest, size: bytes.length }),
      ),
    ),
    (error: VerificationError) => {
      assertEquals(error.kind, "size");
      assertEquals(
        error.message,
        `blob ${digest} ended after 500 of ${bytes.length} bytes`,
      );
      return true;
    },
  );
});

Deno.test("an overrun fails at once, before the rest is read", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1000));
    },
  });
  await assert.rejects(
    drain(endless.pipeThrough(verifyingStream({ digest, size: 2500 }))),
    (error: VerificationError) => {
      assertEquals(error.kind, "size");
      assertIncludes(error.message, "is larger than the 2500 bytes");
      return true;
    },
  );
  assert.ok(pulled < 10, `pulled ${pulled} chunks`);
});

Deno.test("a resumed verification continues the prefix's hash", async () => {
  const hash = createHash("sha256").update(bytes.subarray(0, 300));
  const out = await drain(
    chunked(bytes.subarray(300)).pipeThrough(
      verifyingStream({ digest, size: bytes.length }, { offset: 300, hash }),
    ),
  );
  assertEquals(out, bytes.length - 300);
  assert.throws(
    () => verifyingStream({ digest, size: 10 }, { offset: 3 }),
    TypeError,
  );
});

Deno.test("sha512 digests are verified too; others are refused", async () => {
  const sha512 = digestOf(bytes, "sha512");
  assertEquals(
    await drain(
      chunked(bytes).pipeThrough(
        verifyingStream({ digest: sha512, size: bytes.length }),
      ),
    ),
    bytes.length,
  );
  assert.throws(
    () => verifyingStream({ digest: "md5:abcd", size: 1 }),
    /Invalid digest algorithm "md5" is not supported/,
  );
});

Deno.test("readLimited stops as soon as the limit is passed", async () => {
  assertEquals(
    await readLimited(chunked(bytes), bytes.length, () => new Error("big")),
    bytes,
  );
  await assert.rejects(
    readLimited(chunked(bytes), 250, () => new RangeError("too big")),
    RangeError,
  );
});
