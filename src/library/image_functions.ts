/**
 * The library's image functions: `commit` and `exportImage` (re-exported by
 * `functions.ts`); their code is loaded only when they are called.
 *
 * @module
 */

import type {
  CommitOptions,
  CommitResult,
  ExportFormat,
  StoreOptions,
} from "./options.ts";
import { logOf, storeOf, warnOf } from "./_env.ts";

/**
 * Makes an image of entry `uuid` in the local image store, as `polythene
 * commit UUID [REF]`: the pulled base's layers plus one layer with what
 * changed, or one layer with the whole tree when the base is not known.
 *
 * @example
 * ```ts
 * import { commit, exec, pull } from "../mod.ts";
 *
 * export async function provision(image: string): Promise<string> {
 *   const uuid = await pull(image);
 *   await exec(uuid, ["apt-get", "install", "-y", "hello"]);
 *   const made = await commit(uuid, { ref: "ci/toolchain:1" });
 *   return made.digest;
 * }
 * ```
 *
 * @returns The manifest digest, the REF and the new layer.
 * @throws {UsageError} a bad REF or change (2); {RootfsNotFoundError} (1);
 * {EntryBusyError} while a command runs in the entry (1);
 * {UnreadableFilesError} naming files that cannot be read (1).
 */
export async function commit(
  uuid: string,
  options: CommitOptions = {},
): Promise<CommitResult> {
  // Loaded on use: the tar and compression code never reaches `exec`.
  const { commitEntry } = await import("../image/commit/commit.ts");
  const made = await commitEntry({
    store: storeOf(options),
    uuid,
    ref: options.ref,
    changes: options.changes,
    message: options.message,
    compression: options.compression,
    log: logOf(options),
    warn: warnOf(options),
    progress: options.progress,
  });
  return {
    digest: made.digest,
    ...(made.ref ? { ref: made.ref } : {}),
    layer: made.layer,
    onBase: made.onBase,
  };
}

/**
 * Writes a committed image (an entry's UUID for its newest commit, a REF
 * or a digest) to `dest`, as `polythene export IMAGE DEST --format F`: an
 * OCI layout directory, an OCI or docker archive, or the flattened root
 * filesystem as a tar.
 *
 * @example
 * ```ts
 * import { exportImage } from "../mod.ts";
 *
 * export const save = (ref: string) =>
 *   exportImage(ref, "/tmp/image.tar", "docker-archive");
 * ```
 *
 * @returns The image's manifest digest.
 * @throws {LocalImageNotFoundError} (1); {ExportTargetError} when DEST
 * exists or cannot be written (1).
 */
export async function exportImage(
  image: string,
  dest: string,
  format: ExportFormat,
  options: StoreOptions = {},
): Promise<string> {
  const { exportImage: write } = await import("../image/export/export.ts");
  return (await write(storeOf(options), image, format, dest)).digest;
}
