import assert from "node:assert/strict";
import {
  encodeHeader,
  END_OF_ARCHIVE,
  parsePax,
  paxBody,
  type TarHeader,
} from "../../../../src/image/commit/tar_format.ts";
import { readTarHeaders } from "../../../../src/image/commit/tar_headers.ts";
import { runTool } from "../../../helpers/oci_image.ts";

function archive(headers: TarHeader[]): Uint8Array {
  const parts = headers.map(encodeHeader);
  parts.push(END_OF_ARCHIVE);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const HEADERS: TarHeader[] = [
  { name: "d", type: "dir", mode: 0o1777, uid: 0, gid: 0, size: 0, mtime: 5 },
  {
    name: `d/${"x".repeat(150)}`,
    type: "symlink",
    mode: 0o777,
    uid: 3_000_000,
    gid: 4,
    size: 0,
    mtime: 6,
    linkname: `/${"y".repeat(120)}`,
  },
  {
    name: "d/null",
    type: "char",
    mode: 0o666,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 7,
    devmajor: 1,
    devminor: 3,
  },
  {
    name: "d/héllo wörld",
    type: "hardlink",
    mode: 0o4755,
    uid: 1,
    gid: 2,
    size: 0,
    mtime: 8,
    linkname: "d/null",
  },
];

Deno.test("encodeHeader: PAX for long names, long targets and large ids; read back the same", async () => {
  const read: TarHeader[] = [];
  const bytes = archive(HEADERS);
  for await (
    const h of readTarHeaders(new Blob([bytes as BlobPart]).stream())
  ) {
    read.push(h);
  }
  assert.deepEqual(
    read.map((h) => [h.name, h.type, h.mode, h.uid, h.linkname, h.devminor]),
    HEADERS.map((h) => [
      h.type === "dir" ? `${h.name}/` : h.name,
      h.type,
      h.mode,
      h.uid,
      h.linkname ?? "",
      h.type === "char" ? 3 : 0,
    ]),
  );
});

Deno.test("encodeHeader: GNU tar lists the same members", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.tar`, archive(HEADERS));
    const out = await runTool([
      "tar",
      "--numeric-owner",
      "-tvf",
      `${dir}/a.tar`,
    ]);
    const lines = new TextDecoder().decode(out).trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^drwxrwxrwt 0\/0 .* d\/$/);
    assert.match(lines[1]!, new RegExp(`3000000/4 .* d/x{150} -> /y{120}$`));
    assert.match(lines[2]!, /^crw-rw-rw- 0\/0 +1,3 .* d\/null$/);
    assert.match(
      lines[3]!,
      /^hrwsr-xr-x 1\/2 .* d\/h\\303\\251llo w\\303\\266rld link to d\/null$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paxBody: record lengths count themselves, across a digit boundary", () => {
  for (const size of [1, 88, 89, 90, 91, 995, 996, 997]) {
    const value = "v".repeat(size);
    const body = paxBody([["path", value]]);
    const text = new TextDecoder().decode(body);
    assert.equal(Number(text.split(" ")[0]), body.length, `size ${size}`);
    assert.equal(parsePax(body).get("path"), value);
  }
});
