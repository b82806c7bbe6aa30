/**
 * The library's `push` (re-exported by `functions.ts`), kept in its own
 * file: the registry's push code is loaded only when it is called.
 *
 * @module
 */

import type { PushedImage, PushOptions } from "./options.ts";
import { logOf, storeOf } from "./_env.ts";

/**
 * Pushes an image of the local image store to a registry, as `polythene
 * push UUID|REF DEST-REF`: with pull's credentials, TLS, retry and
 * redirect rules.
 *
 * @example
 * ```ts
 * import { push } from "../mod.ts";
 *
 * export const publish = (uuid: string) =>
 *   push(uuid, "ghcr.io/me/provisioned:1");
 * ```
 *
 * @param image An entry's UUID (its newest commit), a REF given to commit,
 * or a manifest digest.
 * @param dest `HOST/REPOSITORY[:TAG]`.
 * @returns The pushed digest, `REF@DIGEST`, and what happened to the blobs.
 * @throws {UsageError} a malformed DEST-REF (2); {PolytheneError} naming
 * the destination and the cause (1), 124 on timeout.
 */
export async function push(
  image: string,
  dest: string,
  options: PushOptions = {},
): Promise<PushedImage> {
  // Loaded on use, like pull's code.
  const { pushLocalImage } = await import("../image/push.ts");
  const result = await pushLocalImage({
    store: storeOf(options),
    image,
    dest,
    tlsVerify: options.tlsVerify ?? true,
    timeoutSeconds: options.timeoutSeconds,
    log: logOf(options),
    progress: options.progress,
  });
  return { digest: result.digest, pushed: result.pushed, blobs: result.blobs };
}
