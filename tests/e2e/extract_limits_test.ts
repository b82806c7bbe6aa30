/**
 * Bounded resources against the real filesystem: gzip and zstd bombs stop
 * at the expansion cap before writing past it, a huge file is refused from
 * its header, a million entries stop at the entry cap without being read to
 * the end, and a large but
 * legitimate layer of small files still extracts. Host sentinels are
 * checked in every case. As root the whole file runs in a child `deno test`
 * inside the jail (see `tests/helpers/jailed_file.ts`).
 */

import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import {
  decompressStream,
  DEFAULT_LIMITS,
  extractLayer,
  LayerLimitError,
} from "../../src/image/layers/mod.ts";
import {
  diskUsage,
  lazyStream,
  rejection,
  sandboxTests,
  ustarHeader,
} from "../unit/layers/_sandbox.ts";
import { runsHere } from "../helpers/jailed_file.ts";

/** As root, these tests run in a child process inside the jail. */
const here = runsHere(import.meta.url, "layer limits");

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const asRoot = Deno.uid() === 0;

const limitTest = sandboxTests("limits", here);

/**
 * A tar of `total` bytes of zero-filled files of `fileSize` each, as a
 * chain of compressed members (gzip) or frames (zstd): each piece is
 * compressed once and repeated, so nothing large is ever in memory.
 */
function* bomb(
  compress: (bytes: Uint8Array) => Uint8Array,
  total: number,
  fileSize: number,
): Generator<Uint8Array> {
  const zeros = compress(new Uint8Array(MiB));
  for (let file = 0; file * fileSize < total; file++) {
    yield compress(ustarHeader(`bomb/f${file}`, fileSize));
    for (let done = 0; done < fileSize; done += MiB) yield zeros;
  }
  yield compress(new Uint8Array(1024));
}

const gzip = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
const zstd = (bytes: Uint8Array) => new Uint8Array(zstdCompressSync(bytes));

for (
  const [label, compress, mediaType] of [
    ["gzip", gzip, "application/vnd.oci.image.layer.v1.tar+gzip"],
    ["zstd", zstd, "application/vnd.oci.image.layer.v1.tar+zstd"],
  ] as const
) {
  limitTest(`a 10 GiB ${label} bomb stops at maxExpandedBytes`, async (sb) => {
    const cap = 64 * MiB;
    const source = lazyStream(bomb(compress, 10 * GiB, 16 * MiB));
    const error = await rejection(() =>
      extractLayer(decompressStream(mediaType, source.stream), sb.rootfs, {
        asRoot,
        limits: { maxExpandedBytes: cap },
      })
    );
    assert.ok(error instanceof LayerLimitError, String(error));
    assert.equal(error.limit, "maxExpandedBytes");
    // Nothing past the cap was written: file blocks plus a few directories.
    const used = await diskUsage(sb.rootfs);
    assert.ok(used <= cap + 64 * 1024, `${used} bytes on disk`);
    // The source was cancelled: far less than the bomb was read.
    assert.ok(source.cancelled());
    assert.ok(source.pulled() < 200, `${source.pulled()} chunks pulled`);
  });
}

limitTest("a 10 GiB file is refused from its header", async (sb) => {
  const source = lazyStream(bomb(gzip, 10 * GiB, 10 * GiB));
  const error = await rejection(() =>
    extractLayer(
      decompressStream(
        "application/vnd.oci.image.layer.v1.tar+gzip",
        source.stream,
      ),
      sb.rootfs,
      { asRoot, limits: { maxFileBytes: GiB } },
    )
  );
  assert.ok(error instanceof LayerLimitError, String(error));
  assert.equal(error.limit, "maxFileBytes");
  assert.ok(await diskUsage(sb.rootfs) < MiB);
});

limitTest("a million entries stop at the default entry cap", async (sb) => {
  // The same directory entry, over and over: no file is created, so only
  // the count can stop it.
  const batch = new Uint8Array(512 * 1000);
  const header = ustarHeader("d/", 0, "5");
  for (let i = 0; i < 1000; i++) batch.set(header, i * 512);
  const source = lazyStream(
    (function* () {
      for (let i = 0; i < 1000; i++) yield batch;
      yield new Uint8Array(1024);
    })(),
  );
  const error = await rejection(() =>
    extractLayer(source.stream, sb.rootfs, { asRoot })
  );
  assert.ok(error instanceof LayerLimitError, String(error));
  assert.equal(error.limit, "maxEntries");
  assert.ok(DEFAULT_LIMITS.maxEntries < 1_000_000);
  // Stopped at the cap: the rest of the million entries was never read.
  assert.ok(source.cancelled());
});

limitTest("the entry cap stops file creation at the cap", async (sb) => {
  const cap = 20_000;
  const source = lazyStream(
    (function* () {
      for (let i = 0; i < 1_000_000; i++) {
        yield ustarHeader(`f/${Math.floor(i / 1000)}/${i}`, 0);
      }
      yield new Uint8Array(1024);
    })(),
  );
  const error = await rejection(() =>
    extractLayer(source.stream, sb.rootfs, {
      asRoot,
      limits: { maxEntries: cap },
    })
  );
  assert.ok(error instanceof LayerLimitError, String(error));
  let files = 0;
  for await (const dir of Deno.readDir(`${sb.rootfs}/f`)) {
    for await (const _ of Deno.readDir(`${sb.rootfs}/f/${dir.name}`)) files++;
  }
  assert.equal(files, cap);
});

limitTest("100,000 small files extract, each one intact", async (sb) => {
  const count = 100_000;
  const body = new Uint8Array(512).fill(0x61);
  const source = lazyStream(
    (function* () {
      for (let i = 0; i < count; i++) {
        if (i % 1000 === 0) yield ustarHeader(`d${i / 1000}/`, 0, "5");
        yield ustarHeader(`d${Math.floor(i / 1000)}/f${i}`, 100);
        yield body;
      }
      yield new Uint8Array(1024);
    })(),
  );
  const stats = await extractLayer(source.stream, sb.rootfs, { asRoot });
  assert.equal(stats.files, count);
  assert.equal(stats.directories, count / 1000);
  assert.equal(
    await Deno.readTextFile(`${sb.rootfs}/d99/f99999`),
    "a".repeat(100),
  );
});

for (
  const [limit, name] of [
    ["maxNameBytes", "x/".repeat(2100) + "f"],
    ["maxComponentBytes", "d/" + "n".repeat(256)],
    ["maxDepth", "d/".repeat(300) + "f"],
  ] as const
) {
  limitTest(`${limit} is enforced`, async (sb) => {
    const error = await rejection(() =>
      extractLayer(
        lazyStream([
          ustarHeaderWithPath(name),
          new Uint8Array(1024),
        ].values()).stream,
        sb.rootfs,
        { asRoot },
      )
    );
    assert.ok(error instanceof LayerLimitError, String(error));
    assert.equal(error.limit, limit);
  });
}

/** A PAX header carrying `path`, then an empty file member. */
function ustarHeaderWithPath(path: string): Uint8Array {
  const record = (n: number) => `${n} path=${path}\n`;
  let length = record(0).length;
  while (record(length).length !== length) length = record(length).length;
  const body = new TextEncoder().encode(record(length));
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
  padded.set(body);
  const out = new Uint8Array(512 + padded.length + 512);
  out.set(ustarHeader("PaxHeader", body.length, "x"));
  out.set(padded, 512);
  out.set(ustarHeader("placeholder", 0), 512 + padded.length);
  return out;
}
