/**
 * The native registry client (OCI distribution spec), for `pull`.
 *
 * ```ts
 * import { openBlob, RegistryClient, resolveImage } from "./mod.ts";
 * import { parseReference } from "../reference.ts";
 * import { hostPlatform } from "../platform.ts";
 *
 * const client = new RegistryClient({ tlsVerify: true });
 * try {
 *   const ref = parseReference("127.0.0.1:5000/busybox:1");
 *   const image = await resolveImage(client, ref, hostPlatform());
 *   for (const layer of image.layers) {
 *     const stream = await openBlob(client, ref, layer, { what: "layer" });
 *     // Verified while it flows: the stream errors on a mismatch, so the
 *     // content counts only once it has ended without error.
 *     await stream.pipeTo(new WritableStream());
 *   }
 * } finally {
 *   await client.close();
 * }
 * ```
 *
 * Permissions: `--allow-net`; `--allow-read` (credentials files,
 * `certs.d`); `--allow-env` for {@linkcode AUTH_ENV_VARS} and
 * {@linkcode HELPER_ENV_VARS}; `--allow-run` for `docker-credential-*`
 * helpers named in credentials files.
 *
 * @module
 */

import type { Descriptor, ImageReference } from "../types.ts";
import type { OpenBlobOptions, RegistryClient } from "./client.ts";

export {
  type CredentialSource,
  type DocumentCache,
  type FetchedManifest,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  type OpenBlobOptions,
  RegistryClient,
  type RegistryClientOptions,
} from "./client.ts";
export { describeNetworkError } from "./_http.ts";
export {
  type Challenge,
  chooseChallenge,
  parseWwwAuthenticate,
  pullScope,
  tokenFromResponse,
  tokenUrl,
} from "./challenge.ts";
export {
  AUTH_ENV_VARS,
  type AuthFile,
  authFiles,
  type Credential,
  type CredentialLookupOptions,
  type EnvLookup,
  findCredentials,
  HELPER_ENV_VARS,
  type HelperOutput,
  type HelperRunner,
  helperServerUrl,
  lookupInFile,
  normalizeKey,
  normalizeRegistry,
  parseHelperOutput,
} from "./credentials.ts";
export {
  decideRedirect,
  isLoopbackHost,
  MAX_REDIRECTS,
  plainHttpAllowed,
  type RedirectDecision,
} from "./redirect.ts";
export {
  PULL_FAILED_EXIT_CODE,
  RegistryError,
  type RegistryErrorKind,
} from "./registry_error.ts";
export { type ResolvedImage, resolveImage } from "./resolve.ts";
export {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from "./retry.ts";
export {
  createTransport,
  defaultCertsDirs,
  registryCaCerts,
  type Transport,
  type TransportOptions,
} from "./transport.ts";
export {
  digestOf,
  hasherFor,
  VerificationError,
  verifyingStream,
} from "./verify.ts";

/**
 * Opens a layer or other blob of `ref`, verified while it streams; see
 * {@linkcode RegistryClient.openBlob}.
 */
export function openBlob(
  client: RegistryClient,
  ref: ImageReference,
  descriptor: Descriptor,
  options: OpenBlobOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  return client.openBlob(ref, descriptor, options);
}
