import { createTarDecoder } from "modern-tar";
import {
  LayerFormatError,
  LayerLimitError,
  LayerPathError,
} from "../../../src/image/layers/mod.ts";
import { paxProblem, TarTap } from "../../../src/image/layers/_tar_tap.ts";
import { assertEquals } from "../../helpers/assert.ts";
import { concat, tarBytes, type TarEntry } from "../../helpers/tar_writer.ts";
import { rejection, ustarHeader } from "./_sandbox.ts";

/** The tap as a pass-through stream. */
function tapping(tap: TarTap) {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(tap.take(chunk));
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

/** A PAX header (`x`, or `g` for a global one) holding `records`. */
function pax(records: string | Uint8Array, type = "x") {
  const body = typeof records === "string"
    ? new TextEncoder().encode(records)
    : records;
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
  padded.set(body);
  return concat([ustarHeader("PaxHeader", body.length, type), padded]);
}

/** A GNU long name (`L`) or long link (`K`) record. */
function gnuLong(text: string, type = "L") {
  const body = new TextEncoder().encode(text + "\0");
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
  padded.set(body);
  return concat([ustarHeader("././@LongLink", body.length, type), padded]);
}

Deno.test("TarTap: follows PAX size and the decoder's quirks", async () => {
  // A PAX size overrides the header's; an `x` followed by another `x` is
  // dropped (both modern-tar and Go keep only the last).
  const bytes = concat([
    pax("12 size=512\n"),
    ustarHeader("a", 0),
    new Uint8Array(512),
    pax("12 size=512\n"),
    pax("11 path=bb\n"),
    ustarHeader("b", 0),
    gnuLong("aaaa"),
    ustarHeader("x", 0),
    ustarHeader("c", 0, "3"),
    new Uint8Array(1024),
  ]);
  assertEquals(await read(bytes), [
    "a file 0 0:0",
    "bb file 0 0:0",
    "aaaa file 0 0:0",
    "c character-device 3 0:0",
  ]);
});

Deno.test("TarTap: a PAX global header is ignored, as Go's archive/tar does", async () => {
  // modern-tar alone would name both entries "evil" and give them a
  // 512-byte body, swallowing the next header.
  const bytes = concat([
    pax("13 path=evil\n17 linkpath=/etc\n12 size=512\n", "g"),
    ustarHeader("a", 0),
    ustarHeader("b", 0, "2"),
    ustarHeader("c", 0),
    new Uint8Array(1024),
  ]);
  for (const step of [1, 100, 512, 1 << 20]) {
    assertEquals(await read(bytes, step), [
      "a file 0 0:0",
      "b symlink 2 0:0",
      "c file 0 0:0",
    ], `step ${step}`);
  }
});

Deno.test("TarTap: a name or link name that is not UTF-8 is refused, bytes escaped", async () => {
  const named = (name: Uint8Array, type = "0", link = new Uint8Array()) => {
    const block = ustarHeader("", 0, type);
    block.set(name, 0);
    block.set(link, 157);
    return rechecksum(block);
  };
  const cases: [Uint8Array, string][] = [
    [
      concat([named(new Uint8Array([0x6e, 0xff])), new Uint8Array(1024)]),
      "n\\xff",
    ],
    [
      concat([
        pax(
          new Uint8Array([
            ...new TextEncoder().encode("11 path=n"),
            0xfe,
            0x0a,
          ]),
        ),
        ustarHeader("ok", 0),
        new Uint8Array(1024),
      ]),
      "n\\xfe",
    ],
    [
      concat([
        gnuLongBytes(new Uint8Array([0x6e, 0xc3, 0x28])),
        ustarHeader("ok", 0),
        new Uint8Array(1024),
      ]),
      "n\\xc3(",
    ],
    [
      concat([
        named(new TextEncoder().encode("s"), "2", new Uint8Array([0x2f, 0xff])),
        new Uint8Array(1024),
      ]),
      'link name "/\\xff"',
    ],
  ];
  for (const [bytes, shown] of cases) {
    const error = await rejection(() => read(bytes));
    assertEquals(error instanceof LayerPathError, true, String(error));
    assertEquals(
      (error as Error).message.includes(shown),
      true,
      `${(error as Error).message} names ${shown}`,
    );
  }
});

Deno.test("TarTap: meta records in an order Go reads differently are refused", async () => {
  for (
    const records of [
      [gnuLong("a"), pax("10 path=b\n", "g")],
      [gnuLong("a", "K"), pax("10 path=b\n", "g")],
      [pax("12 size=512\n"), gnuLong("a")],
      [gnuLong("a"), pax("10 path=b\n"), pax("10 path=c\n")],
    ]
  ) {
    const error = await rejection(() =>
      read(concat([...records, ustarHeader("f", 0), new Uint8Array(1024)]))
    );
    assertEquals(error instanceof LayerFormatError, true, String(error));
  }
});

/** A GNU long name record of raw bytes. */
function gnuLongBytes(name: Uint8Array) {
  const padded = new Uint8Array(512);
  padded.set(name);
  return concat([ustarHeader("././@LongLink", name.length + 1, "L"), padded]);
}

/** Writes the header checksum again after its fields were changed. */
function rechecksum(block: Uint8Array): Uint8Array {
  block.fill(0x20, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  block.set(
    new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "),
    148,
  );
  return block;
}

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

Deno.test("TarTap: PAX records Go's reader refuses are refused", async () => {
  const good = paxProblem(
    new TextEncoder().encode("11 path=ok\n12 uid=1000\n"),
  );
  assertEquals(good, undefined);
  for (
    const [records, type] of [
      ["12abc path=x\n", "x"], // a length Go does not parse
      ["11 path=ok\t", "x"], // no newline
      ["9 =empty\n", "x"], // no key
      ["11 uid=abc\n", "x"],
      ["29 size=99999999999999999999\n", "x"],
      ["10 mtime=\n", "g"],
      ["20 path=x", "g"], // longer than the record
    ] as const
  ) {
    const error = await rejection(() =>
      read(
        concat([pax(records, type), ustarHeader("f", 0), new Uint8Array(1024)]),
      )
    );
    assertEquals(
      error instanceof LayerFormatError &&
        /a malformed PAX record/.test(error.message),
      true,
      `${JSON.stringify(records)}: ${error}`,
    );
  }
  const nul = new Uint8Array([
    ...new TextEncoder().encode("11 path=a"),
    0,
    0x0a,
  ]);
  assertEquals(paxProblem(nul), "a NUL byte");
});
