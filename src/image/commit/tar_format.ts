/**
 * The tar format as commit writes and re-reads it: ustar headers, with a
 * PAX extended header (`x`) in front whenever a value does not fit
 * (`path`, `linkpath` over 100 bytes, ids or sizes too large for their
 * octal fields) and for extended attributes (`SCHILY.xattr.NAME`). Reading
 * also takes GNU long names (`L`, `K`) and base-256 numbers, as layers
 * made by other tools use them. Pure.
 *
 * @module
 */

/** Member types commit writes and reads. */
export type TarType =
  | "file"
  | "hardlink"
  | "symlink"
  | "char"
  | "block"
  | "dir"
  | "fifo";

/** One member's header. */
export interface TarHeader {
  /** Path without a leading `/` (directories without a trailing `/`). */
  name: string;
  /** Member type. */
  type: TarType;
  /** Permission bits, with setuid/setgid/sticky. */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Body size (files only). */
  size: number;
  /** Modification time, whole seconds since the epoch. */
  mtime: number;
  /** Symlink or hardlink target. */
  linkname?: string;
  /** Device numbers. */
  devmajor?: number;
  /** Device numbers. */
  devminor?: number;
  /** Extended attributes, name to value (bytes as latin1-free UTF-8). */
  xattrs?: Record<string, string>;
}

/**
 * One path of a tree commit compares (the base image's, the entry's): a
 * header without its name and extended attributes.
 */
export interface TreeNode extends Omit<TarHeader, "name" | "type" | "xattrs"> {
  /** Member type; a hardlink is the file it links to. */
  type: Exclude<TarType, "hardlink">;
}

const FLAG: Record<TarType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};
const TYPE_OF_FLAG: Record<string, TarType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The zero-filled end of an archive (two blocks). */
export const END_OF_ARCHIVE = new Uint8Array(1024);

/** Bytes of padding after a body of `size` bytes. Pure. */
export function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}

/**
 * The header blocks of one member: a PAX header when needed, then the
 * ustar header. Pure.
 */
export function encodeHeader(h: TarHeader): Uint8Array {
  const pax: [string, string][] = [];
  const name = h.type === "dir" ? `${h.name}/` : h.name;
  if (!fits(name, 100)) pax.push(["path", name]);
  if (h.linkname !== undefined && !fits(h.linkname, 100)) {
    pax.push(["linkpath", h.linkname]);
  }
  if (h.uid > 0o7777777) pax.push(["uid", String(h.uid)]);
  if (h.gid > 0o7777777) pax.push(["gid", String(h.gid)]);
  if (h.size > 0o77777777777) pax.push(["size", String(h.size)]);
  for (const [key, value] of Object.entries(h.xattrs ?? {})) {
    pax.push([`SCHILY.xattr.${key}`, value]);
  }
  const ustar = ustarBlock(h, name);
  if (pax.length === 0) return ustar;
  const body = paxBody(pax);
  const paxHeader = ustarBlock(
    {
      name: "",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: h.mtime,
    },
    `PaxHeaders/${truncate(name, 80)}`,
    "x",
  );
  const out = new Uint8Array(512 + body.length + padding(body.length) + 512);
  out.set(paxHeader, 0);
  out.set(body, 512);
  out.set(ustar, out.length - 512);
  return out;
}

/** The records of a PAX header body (`LEN KEY=VALUE\n`). Pure. */
export function paxBody(records: readonly [string, string][]): Uint8Array {
  let text = "";
  for (const [key, value] of records) {
    const rest = ` ${key}=${value}\n`;
    const restBytes = encoder.encode(rest).length;
    let length = restBytes + String(restBytes).length;
    if (String(length).length + restBytes !== length) length++;
    text += `${length}${rest}`;
  }
  return encoder.encode(text);
}

/** Parses a PAX header body into its records. Pure. */
export function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    let space = at;
    while (space < data.length && data[space] !== 0x20) space++;
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      records.set(
        decoder.decode(record.subarray(0, eq)),
        decoder.decode(record.subarray(eq + 1)),
      );
    }
    at += length;
  }
  return records;
}

/** What one raw 512-byte header block says. */
export interface RawBlock {
  /** The type flag character. */
  flag: string;
  /** ustar prefix + name. */
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

/**
 * Parses one header block; undefined for a zero block (end of archive).
 *
 * @throws {Error} on a bad checksum.
 */
export function parseBlock(block: Uint8Array): RawBlock | undefined {
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < 512; i++) {
    sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  }
  if (sum !== number(block, 148, 8)) {
    throw new Error("tar header checksum mismatch");
  }
  const magic = decoder.decode(block.subarray(257, 263));
  const prefix = magic.startsWith("ustar") && magic !== "ustar " // not GNU
    ? text(block, 345, 155)
    : "";
  const name = text(block, 0, 100);
  return {
    flag: String.fromCharCode(block[156]!),
    name: prefix === "" ? name : `${prefix}/${name}`,
    linkname: text(block, 157, 100),
    mode: number(block, 100, 8),
    uid: number(block, 108, 8),
    gid: number(block, 116, 8),
    size: number(block, 124, 12),
    mtime: number(block, 136, 12),
    devmajor: number(block, 329, 8),
    devminor: number(block, 337, 8),
  };
}

/** The member type of a flag, or undefined for metadata members. Pure. */
export function typeOfFlag(flag: string): TarType | undefined {
  return TYPE_OF_FLAG[flag];
}

function ustarBlock(h: TarHeader, name: string, flag?: string): Uint8Array {
  const block = new Uint8Array(512);
  put(block, 0, 100, name);
  octal(block, 100, 8, h.mode & 0o7777);
  octal(block, 108, 8, h.uid > 0o7777777 ? 0 : h.uid);
  octal(block, 116, 8, h.gid > 0o7777777 ? 0 : h.gid);
  octal(block, 124, 12, h.size > 0o77777777777 ? 0 : h.size);
  octal(block, 136, 12, Math.max(0, Math.min(h.mtime, 0o77777777777)));
  block[156] = (flag ?? FLAG[h.type]).charCodeAt(0);
  if (h.linkname !== undefined) put(block, 157, 100, h.linkname);
  put(block, 257, 6, "ustar\0");
  put(block, 263, 2, "00");
  if (h.type === "char" || h.type === "block") {
    octal(block, 329, 8, h.devmajor ?? 0);
    octal(block, 337, 8, h.devminor ?? 0);
  }
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  octal(block, 148, 7, sum);
  return block;
}

/** Whether `s` fits a field of `size` bytes (truncation would change it). */
function fits(s: string, size: number): boolean {
  return encoder.encode(s).length <= size;
}

function truncate(s: string, size: number): string {
  const bytes = encoder.encode(s);
  return bytes.length <= size ? s : decoder.decode(bytes.subarray(0, size))
    .replace(/\uFFFD$/, "");
}

function put(block: Uint8Array, at: number, size: number, s: string) {
  block.set(encoder.encode(s).subarray(0, size), at);
}

function octal(block: Uint8Array, at: number, size: number, n: number) {
  put(block, at, size - 1, n.toString(8).padStart(size - 1, "0"));
}

function text(block: Uint8Array, at: number, size: number): string {
  const field = block.subarray(at, at + size);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/** An octal field, or base-256 when its top bit is set. */
function number(block: Uint8Array, at: number, size: number): number {
  const field = block.subarray(at, at + size);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < size; i++) n = n * 256 + field[i]!;
    return n;
  }
  const s = text(block, at, size).trim();
  return s === "" ? 0 : parseInt(s, 8);
}
