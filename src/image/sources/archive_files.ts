/**
 * Unpacks the plain files of an image archive (an oci-archive or a
 * docker-archive) into a private directory. Only regular files whose names
 * are safe relative paths are written; everything else is skipped. Layer
 * contents are never interpreted here.
 *
 * @module
 */

import { createTarDecoder } from "../../npm/modern_tar.ts";
import { PolytheneError } from "../../errors.ts";

/** At most this many members; image archives hold a few dozen. */
const MAX_MEMBERS = 100_000;

/**
 * A relative path that cannot leave its directory: no `..`, not absolute,
 * no empty or `.` components except a leading `./`. Pure.
 */
export function safeMemberPath(name: string): string | undefined {
  const parts = name.replace(/^\.\//, "").split("/").filter((p, i, all) =>
    !(p === "" && i === all.length - 1)
  );
  if (parts.length === 0 || parts.length > 8) return undefined;
  if (
    parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))
  ) {
    return undefined;
  }
  return parts.join("/");
}

/**
 * Writes each regular file of the tar `archive` under `dir`.
 *
 * @throws {PolytheneError} naming `label` when the archive is unreadable.
 */
export async function unpackArchiveFiles(
  archive: string,
  dir: string,
  label: string,
): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(archive);
  } catch (error) {
    throw new PolytheneError(`Cannot read "${label}": ${String(error)}`, {
      exitCode: 1,
      cause: error,
    });
  }
  let members = 0;
  try {
    const entries = file.readable.pipeThrough(createTarDecoder());
    for await (const entry of entries) {
      if (++members > MAX_MEMBERS) throw new Error("too many members");
      const path = safeMemberPath(entry.header.name);
      const regular = (entry.header.type ?? "file") === "file";
      if (!regular || path === undefined) {
        await entry.body.cancel();
        continue;
      }
      const parent = path.includes("/")
        ? `${dir}/${path.slice(0, path.lastIndexOf("/"))}`
        : dir;
      await Deno.mkdir(parent, { recursive: true });
      const out = await Deno.open(`${dir}/${path}`, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
      await entry.body.pipeTo(out.writable);
    }
  } catch (error) {
    if (error instanceof PolytheneError) throw error;
    throw new PolytheneError(
      `Cannot read "${label}": not a valid tar archive (${
        error instanceof Error ? error.message : String(error)
      })`,
      { exitCode: 1, cause: error },
    );
  }
}
