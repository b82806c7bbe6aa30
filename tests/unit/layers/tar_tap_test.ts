import { createTarDecoder } from "modern-tar";
import { LayerLimitError } from "../../../src/image/layers/mod.ts";
import { TarTap } from "../../../src/image/layers/_tar_tap.ts";
import { assertEquals } from "../../helpers/assert.ts";
import { concat, tarBytes, type TarEntry } from "../../helpers/tar_writer.ts";
import { rejection, ustarHeader } from "./_sandbox.ts";

/** The tap as a pass-through stream. */
function tapping(tap: TarTap) {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      tap.take(chunk);
      controller.enqueue(chunk);
    },
  });
}

/** Runs `bytes` through the tap and the decoder; pairs their readings. */
async function read(bytes: Uint8Array, step = 512 * 3 + 7) {
  const tap = new TarTap(Number.MAX_SAFE_INTEGER);
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < bytes.length; o += step) {
        c.enqueue(bytes.slice(o, o + step));
      }
      c.close();
    },
  });
  const out: string[] = [];
  const reader = source.pipeThrough(tapping(tap)).pipeThrough(
    createTarDecoder({ strict: true }),
  ).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    await value.body.cancel();
    const raw = tap.shift()!;
    out.push(
      `${value.header.name} ${value.header.type} ${raw.typeflag} ${raw.devmajor}:${raw.devminor}`,
    );
  }
  assertEquals(tap.shift(), undefined);
  return out;
}

const ENTRIES: TarEntry[] = [
  { name: "dir/", type: "dir" },
  { name: "dir/file", content: "x".repeat(1000) },
  { name: "l".repeat(150), content: "long name through PAX" },
  { name: "s", type: "symlink", linkname: "t".repeat(200) },
  { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
  { name: "dev/sda1", type: "block", devmajor: 8, devminor: 1 },
  { name: "fifo", type: "fifo" },
  { name: "h", type: "hardlink", linkname: "dir/file" },
  { name: "x", content: "with xattr", pax: { "SCHILY.xattr.user.a": "1" } },
];

const EXPECTED = [
  "dir/ directory 5 0:0",
  "dir/file file 0 0:0",
  `${"l".repeat(150)} file 0 0:0`,
  "s symlink 2 0:0",
  "dev/null character-device 3 1:3",
  "dev/sda1 block-device 4 8:1",
  "fifo fifo 6 0:0",
  "h link 1 0:0",
  "x file 0 0:0",
];

Deno.test("TarTap: reads typeflags and device numbers in step with the decoder", async () => {
  const bytes = tarBytes(ENTRIES);
  for (const step of [1, 511, 512, 513, 1537, 1 << 20]) {
    assertEquals(await read(bytes, step), EXPECTED, `step ${step}`);
  }
});

Deno.test("TarTap: follows PAX size and the decoder's quirks", async () => {
  // A PAX size overrides the header's, and is dropped when a GNU long-name
  // record follows the PAX record (as modern-tar 0.8.6 does).
  const pax = (records: string) => {
    const body = new TextEncoder().encode(records);
    const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
    padded.set(body);
    return concat([ustarHeader("PaxHeader", body.length, "x"), padded]);
  };
  const longName = concat([
    ustarHeader("././@LongLink", 5, "L"),
    new Uint8Array(512).fill(0x61, 0, 4),
  ]);
  const bytes = concat([
    pax("12 size=512\n"),
    ustarHeader("a", 0),
    new Uint8Array(512),
    pax("12 size=512\n"),
    longName,
    ustarHeader("b", 0),
    ustarHeader("c", 0, "3"),
    new Uint8Array(1024),
  ]);
  assertEquals(await read(bytes), [
    "a file 0 0:0",
    "aaaa file 0 0:0",
    "c character-device 3 0:0",
  ]);
});

Deno.test("TarTap: stops the stream before the byte cap is passed", async () => {
  const tap = new TarTap(2048);
  const bytes = tarBytes([{ name: "f", content: "x".repeat(4000) }]);
  const error = await rejection(() =>
    new Response(new Blob([bytes.slice()]).stream().pipeThrough(tapping(tap)))
      .arrayBuffer()
  );
  assertEquals(error instanceof LayerLimitError, true);
  assertEquals(tap.bytes <= 2048, true);
});
