/**
 * Entry types as the extractor sees them (checked against the raw typeflag
 * from the tap), and device nodes and FIFOs, which Deno cannot create: they
 * are made by `mknod` from coreutils, spawned with an argv array.
 *
 * Permissions: `--allow-run=mknod`.
 *
 * @module
 */

import type { TarHeader } from "../../npm/modern_tar.ts";
import type { runCaptured } from "../../process/spawn.ts";
import { LayerFormatError } from "./errors.ts";
import type { RawHeader } from "./_tar_tap.ts";

/** The spawn function used for `mknod` (injectable for tests). */
export type RunCaptured = typeof runCaptured;

/** What an entry creates. */
export type EntryType =
  | "file"
  | "dir"
  | "symlink"
  | "hardlink"
  | "char"
  | "block"
  | "fifo";

const REGULAR = new Set(["0", "\0", "7"]);
const BY_DECODER: Record<string, [EntryType, string]> = {
  link: ["hardlink", "1"],
  symlink: ["symlink", "2"],
  "character-device": ["char", "3"],
  "block-device": ["block", "4"],
  fifo: ["fifo", "6"],
};

/**
 * The type of an entry, after checking that the decoder and the tap read
 * the same header. Pure.
 *
 * @throws {LayerFormatError} For types polythene does not extract (GNU
 * sparse files, multi-volume parts, ...) and when the two readings differ.
 */
export function entryType(
  header: TarHeader,
  raw: RawHeader | undefined,
): EntryType {
  const flag = raw?.typeflag;
  if (flag === undefined) {
    throw new LayerFormatError(
      `tar: lost track of the framing at "${header.name}"`,
    );
  }
  const known = BY_DECODER[header.type ?? "file"];
  if (known !== undefined && known[1] === flag) return known[0];
  if (header.type === "directory") {
    if (flag === "5" || (REGULAR.has(flag) && header.name.endsWith("/"))) {
      return "dir";
    }
  } else if (header.type === "file" || header.type === undefined) {
    if (
      header.pax !== undefined &&
      Object.keys(header.pax).some((k) => k.startsWith("GNU.sparse."))
    ) {
      throw new LayerFormatError(
        `tar: "${header.name}" is a sparse file, which is not supported`,
      );
    }
    if (REGULAR.has(flag)) return "file";
    throw new LayerFormatError(
      `tar: "${header.name}" has entry type ${
        JSON.stringify(flag)
      }, which is not supported`,
    );
  }
  throw new LayerFormatError(
    `tar: the header of "${header.name}" reads two ways`,
  );
}

/**
 * Creates a device node (`c`, `b`) or FIFO (`p`) at `path` with `mode`.
 *
 * @param path An absolute host path whose parents hold no symlink; mknod(2)
 * does not follow a symlink at the last component, and the caller has
 * removed whatever was there.
 * @throws {Error} With mknod's stderr when it fails.
 */
export async function mknod(
  run: RunCaptured,
  path: string,
  type: "c" | "b" | "p",
  mode: number,
  major: number,
  minor: number,
): Promise<void> {
  const argv = [
    "mknod",
    "-m",
    (mode & 0o777).toString(8).padStart(4, "0"),
    path,
    type,
    ...(type === "p" ? [] : [String(major), String(minor)]),
  ];
  const out = await run(argv, {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    LC_ALL: "C",
  });
  if (out.code !== 0) {
    throw new Error(`mknod: ${out.stderr.trim() || `exit ${out.code}`}`);
  }
}
