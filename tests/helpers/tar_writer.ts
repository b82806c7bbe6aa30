/**
 * A small tar writer for test fixtures: ustar headers, with PAX extended
 * headers for long names, long link targets and any extra records. It writes
 * exactly what it is told, so hostile archives (`../` names, absolute paths,
 * links out of the tree) can be made on purpose.
 *
 * @example
 * ```ts
 * import { tarBytes } from "./tar_writer.ts";
 * const tar = tarBytes([
 *   { name: "etc/", type: "dir" },
 *   { name: "etc/hello", content: "hi\n", mode: 0o644 },
 * ]);
 * ```
 *
 * @module
 */

/** One archive member. */
export interface TarEntry {
  /** Path as stored; written verbatim (directories may end with `/`). */
  name: string;
  /**
   * The name field's bytes, in place of `name`'s UTF-8 (at most 100), to
   * write names that are not UTF-8.
   */
  nameBytes?: Uint8Array;
  /** Member type; default `file`. */
  type?:
    | "file"
    | "dir"
    | "symlink"
    | "hardlink"
    | "char"
    | "block"
    | "fifo";
  /** File content (files only). */
  content?: Uint8Array | string;
  /** Permission bits, including setuid/setgid/sticky. */
  mode?: number;
  /** Owner uid. */
  uid?: number;
  /** Owner gid. */
  gid?: number;
  /** Link target (symlink, hardlink). */
  linkname?: string;
  /** Modification time, seconds since the epoch. */
  mtime?: number;
  /** Device numbers (char, block). */
  devmajor?: number;
  /** Device numbers (char, block). */
  devminor?: number;
  /** Extra PAX records, e.g. `{ "SCHILY.xattr.user.x": "1" }`. */
  pax?: Record<string, string>;
}

const TYPE_FLAG = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
} as const;

const encoder = new TextEncoder();

/** Builds a whole tar archive (with the two zero end blocks). */
export function tarBytes(entries: readonly TarEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const entry of entries) chunks.push(...entryBlocks(entry));
  chunks.push(new Uint8Array(1024));
  return concat(chunks);
}

/** The header (and PAX header) plus padded content of one entry. */
export function entryBlocks(entry: TarEntry): Uint8Array[] {
  const type = entry.type ?? "file";
  const body = type === "file"
    ? (typeof entry.content === "string"
      ? encoder.encode(entry.content)
      : entry.content ?? new Uint8Array())
    : new Uint8Array();
  const pax: Record<string, string> = { ...entry.pax };
  const nameBytes = encoder.encode(entry.name);
  if (nameBytes.length > 100) pax.path = entry.name;
  const link = entry.linkname ?? "";
  if (encoder.encode(link).length > 100) pax.linkpath = link;
  const blocks: Uint8Array[] = [];
  if (Object.keys(pax).length > 0) {
    const records = encoder.encode(
      Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(""),
    );
    blocks.push(
      header({
        name: "PaxHeader",
        typeflag: "x",
        size: records.length,
        mode: 0o644,
      }),
      padded(records),
    );
  }
  blocks.push(
    header({
      name: nameBytes.length > 100 ? entry.name.slice(-99) : entry.name,
      typeflag: TYPE_FLAG[type],
      size: body.length,
      mode: entry.mode ?? (type === "dir" ? 0o755 : 0o644),
      uid: entry.uid,
      gid: entry.gid,
      linkname: pax.linkpath ? "" : link,
      mtime: entry.mtime,
      devmajor: entry.devmajor,
      devminor: entry.devminor,
      nameBytes: entry.nameBytes,
    }),
    padded(body),
  );
  return blocks;
}

/**
 * A PAX global header (typeflag `g`) holding `records`: it goes between
 * entries, e.g. `concat([...entryBlocks(a), ...paxGlobalBlocks({ path:
 * "x" }), ...entryBlocks(b)])`.
 */
export function paxGlobalBlocks(records: Record<string, string>): Uint8Array[] {
  const body = encoder.encode(
    Object.entries(records).map(([k, v]) => paxRecord(k, v)).join(""),
  );
  return [
    header({
      name: "pax_global_header",
      typeflag: "g",
      size: body.length,
      mode: 0o644,
    }),
    padded(body),
  ];
}

function paxRecord(key: string, value: string): string {
  const rest = encoder.encode(` ${key}=${value}\n`).length;
  let length = rest + 1;
  while (String(length).length + rest !== length) {
    length = String(length).length + rest;
  }
  return `${length} ${key}=${value}\n`;
}

interface HeaderFields {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  nameBytes?: Uint8Array;
}

function header(f: HeaderFields): Uint8Array {
  const block = new Uint8Array(512);
  const put = (offset: number, length: number, text: string) => {
    const bytes = encoder.encode(text).slice(0, length);
    block.set(bytes, offset);
  };
  const octal = (offset: number, length: number, value: number) =>
    put(offset, length, value.toString(8).padStart(length - 1, "0") + "\0");
  put(0, 100, f.name);
  if (f.nameBytes) block.set(f.nameBytes.subarray(0, 100), 0);
  octal(100, 8, f.mode & 0o7777);
  octal(108, 8, f.uid ?? 0);
  octal(116, 8, f.gid ?? 0);
  octal(124, 12, f.size);
  octal(136, 12, f.mtime ?? 1_700_000_000);
  put(148, 8, "        ");
  put(156, 1, f.typeflag);
  put(157, 100, f.linkname ?? "");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(265, 32, "root");
  put(297, 32, "root");
  octal(329, 8, f.devmajor ?? 0);
  octal(337, 8, f.devminor ?? 0);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

function padded(bytes: Uint8Array): Uint8Array {
  const size = Math.ceil(bytes.length / 512) * 512;
  if (size === bytes.length) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** Concatenates byte arrays. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
