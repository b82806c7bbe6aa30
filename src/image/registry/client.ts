/**
 * A client for the OCI distribution spec, for pulling: the `/v2/` ping, the
 * Bearer token flow and Basic auth, manifests and blobs, with bounded
 * retries, `Range` resumes and hand-followed redirects. Everything it
 * returns is verified against its digest and size.
 *
 * Permissions: `--allow-net`; `--allow-read` for credentials files and
 * `certs.d`; `--allow-env` and `--allow-run` as in `credentials.ts`.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import type { Log } from "../../log.ts";
import { isImageConfig, MANIFEST_ACCEPT } from "../media_types.ts";
import { digestProblem, formatReference } from "../reference.ts";
import type {
  Descriptor,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  ImageReference,
} from "../types.ts";
import {
  basicAuthorization,
  type Challenge,
  chooseChallenge,
  parseWwwAuthenticate,
  pullScope,
  tokenFromResponse,
  tokenUrl,
} from "./challenge.ts";
import { type Credential, findCredentials } from "./credentials.ts";
import {
  decideRedirect,
  isLoopbackHost,
  isRedirectStatus,
  MAX_REDIRECTS,
  plainHttpAllowed,
  registryHostname,
} from "./redirect.ts";
import { oneLine, RegistryError } from "./registry_error.ts";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from "./retry.ts";
import {
  type ClosableTransport,
  createTransport,
  defaultCertsDirs,
  registryCaCerts,
} from "./transport.ts";
import { digestOf, readLimited, verifyingStream } from "./verify.ts";
import {
  authKey,
  combine,
  contentLength,
  describeNetworkError,
  IdleTimeout,
  loginHint,
  parseContentRange,
  readWithTimeout,
  redact,
  sizeMismatch,
  statusError,
  tlsHint,
} from "./_http.ts";
import { parseManifest } from "./_manifest.ts";

/** The largest manifest polythene reads: 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The largest image config polythene reads: 4 MiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** The largest error or token response body read. */
const MAX_SMALL_BODY = 1024 * 1024;

/** Looks credentials up for a registry and repository. */
export type CredentialSource = (
  registry: string,
  repository: string,
) => Promise<Credential | undefined>;

/** Options of {@linkcode RegistryClient}. */
export interface RegistryClientOptions {
  /**
   * Verify TLS certificates (default true). When false, plain http is
   * allowed for every host and https certificates are not checked.
   */
  tlsVerify?: boolean;
  /** Extra trusted CAs (PEM) for every registry. */
  caCerts?: readonly string[];
  /**
   * podman's `certs.d` directories: `DIR/HOST[:PORT]/*.crt` are trusted for
   * that registry. Default {@linkcode defaultCertsDirs}(`$HOME`).
   */
  certsDirs?: readonly string[];
  /** Default: {@linkcode findCredentials} over the process environment. */
  credentials?: CredentialSource;
  /** Overrides parts of {@linkcode DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Waits; default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock, for `Retry-After` dates; default `Date.now`. */
  now?: () => number;
  /** Verbose log: one line per request (no headers, no query strings). */
  log?: Log;
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /** Aborts every request of this client. */
  signal?: AbortSignal;
  /** Where configs are kept between pulls (the store's blob cache). */
  documents?: DocumentCache;
  /**
   * Registries (`HOST[:PORT]`) treated as with `tlsVerify: false`:
   * registries.conf's `insecure = true`.
   */
  insecureRegistries?: readonly string[];
  /**
   * Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read (see
   * `proxy.ts`); default: no proxy.
   */
  proxyEnv?: (name: string) => string | undefined;
}

/**
 * A cache of small verified blobs (configs). `get` returns bytes only when
 * they match the descriptor's digest.
 */
export interface DocumentCache {
  /** The cached bytes of `descriptor`, verified, or undefined. */
  get(descriptor: Descriptor): Promise<Uint8Array | undefined>;
  /** Keeps `bytes`, already verified against `descriptor`. */
  put(descriptor: Descriptor, bytes: Uint8Array): Promise<void>;
}

/** A manifest or index as fetched, verified against its digest. */
export type FetchedManifest =
  & {
    /** The digest of `bytes` (sha256 unless asked for by another). */
    digest: string;
    /** Its media type (from the document, else from `Content-Type`). */
    mediaType: string;
    /** Exactly as served. */
    bytes: Uint8Array;
  }
  & (
    | { kind: "manifest"; manifest: ImageManifest }
    | { kind: "index"; index: ImageIndex }
  );

/** Options of {@linkcode RegistryClient.openBlob}. */
export interface OpenBlobOptions {
  /**
   * Start at this byte (the caller has the bytes before it). Requires
   * `hash`.
   */
  offset?: number;
  /** sha256 (or the digest's algorithm) of the first `offset` bytes. */
  hash?: Hash;
  /** What to call the blob in messages (`layer`, `config`); default `blob`. */
  what?: string;
  /** Aborts the download. */
  signal?: AbortSignal;
}

interface Endpoint {
  /** `scheme://host[:port]/`. */
  base: URL;
  /** Whether certificates are verified and plain http refused here. */
  tlsVerify: boolean;
  transport: ClosableTransport;
  challenge?: Challenge;
}

interface RequestInit {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  authorization?: string;
  /** Tries; default the policy's. */
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Pulls manifests and blobs from registries. One client holds connections,
 * pings and tokens for every registry it talks to; call `close()` when
 * done. Methods may run concurrently.
 */
export class RegistryClient {
  readonly #tlsVerify: boolean;
  readonly #caCerts: readonly string[];
  readonly #certsDirs: readonly string[];
  readonly #credentials: CredentialSource;
  readonly #policy: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #log: Log;
  readonly #userAgent: string;
  readonly #signal?: AbortSignal;
  readonly #documents?: DocumentCache;
  readonly #insecure: ReadonlySet<string>;
  readonly #proxyEnv?: (name: string) => string | undefined;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();
  readonly #authorizations = new Map<string, Promise<string | undefined>>();
  readonly #credentialCache = new Map<
    string,
    Promise<Credential | undefined>
  >();

  constructor(options: RegistryClientOptions = {}) {
    this.#tlsVerify = options.tlsVerify ?? true;
    this.#caCerts = options.caCerts ?? [];
    this.#certsDirs = options.certsDirs ??
      defaultCertsDirs(Deno.env.get("HOME"));
    this.#credentials = options.credentials ??
      ((registry, repository) => findCredentials(registry, repository));
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#userAgent = options.userAgent ?? "polythene";
    this.#signal = options.signal;
    this.#documents = options.documents;
    this.#insecure = new Set(options.insecureRegistries ?? []);
    this.#proxyEnv = options.proxyEnv;
  }

  /** Closes every connection the client holds. */
  async close(): Promise<void> {
    for (const endpoint of this.#endpoints.values()) {
      try {
        (await endpoint).transport.close();
      } catch {
        // The ping failed: nothing was kept.
      }
    }
    this.#endpoints.clear();
  }

  /**
   * Fetches a manifest or index by tag or digest and verifies it: by
   * digest, the content must match it; by tag, it must match the
   * `Docker-Content-Digest` header when there is one; with `expected`, its
   * size and digest too. Refuses schema 1 and anything over 4 MiB.
   *
   * @param reference A tag or digest; default the reference's digest, else
   * its tag.
   * @throws {RegistryError}
   */
  async getManifest(
    ref: ImageReference,
    options: { reference?: string; expected?: Descriptor } = {},
  ): Promise<FetchedManifest> {
    const image = formatReference(ref);
    const reference = options.reference ?? ref.digest ?? ref.tag ?? "latest";
    const byDigest = reference.includes(":");
    const expectedDigest = options.expected?.digest ??
      (byDigest ? reference : undefined);
    const label = byDigest ? `manifest ${reference}` : "manifest";
    if (expectedDigest !== undefined) {
      const problem = digestProblem(expectedDigest);
      if (problem !== undefined) {
        throw new RegistryError(image, `${label}: ${problem}`, {
          kind: "unsupported",
        });
      }
    }
    const tooLarge = () =>
      new RegistryError(
        image,
        `${label} is larger than ${MAX_MANIFEST_BYTES} bytes; refusing it`,
        { kind: "too-large" },
      );
    let response: Response;
    let bytes: Uint8Array;
    for (let attempt = 1;; attempt++) {
      response = await this.#registryRequest(
        ref,
        `manifests/${reference}`,
        { headers: { accept: MANIFEST_ACCEPT } },
      );
      if (response.status !== 200) {
        throw await statusError(image, response, undefined);
      }
      const length = contentLength(response);
      if (length !== undefined && length > MAX_MANIFEST_BYTES) {
        await response.body?.cancel();
        throw tooLarge();
      }
      try {
        bytes = await this.#readAll(
          image,
          response,
          MAX_MANIFEST_BYTES,
          tooLarge,
        );
        break;
      } catch (error) {
        const again = error instanceof RegistryError &&
          error.kind === "network" && attempt < this.#policy.maxAttempts;
        if (!again) throw error;
        await this.#sleep(backoffDelay(attempt, this.#policy));
      }
    }

    const algorithm = (expectedDigest ?? "sha256:").split(":")[0] ?? "sha256";
    const digest = digestOf(bytes, algorithm);
    if (expectedDigest !== undefined && digest !== expectedDigest) {
      throw new RegistryError(
        image,
        `manifest ${expectedDigest} does not match its digest (the content is ${digest})`,
        { kind: "digest" },
      );
    }
    const announced = response.headers.get("docker-content-digest")?.trim();
    if (
      expectedDigest === undefined && announced &&
      digestProblem(announced) === undefined
    ) {
      const actual = digestOf(bytes, announced.split(":")[0]);
      if (actual !== announced) {
        throw new RegistryError(
          image,
          `manifest does not match the registry's Docker-Content-Digest ${announced} (the content is ${actual})`,
          { kind: "digest" },
        );
      }
    }
    if (
      options.expected !== undefined && bytes.length !== options.expected.size
    ) {
      throw new RegistryError(
        image,
        `${label} is ${bytes.length} bytes, its descriptor states ${options.expected.size}`,
        { kind: "size" },
      );
    }
    return parseManifest(
      image,
      label,
      bytes,
      digest,
      response.headers.get("content-type") ?? "",
    );
  }

  /**
   * Fetches and verifies an image config (at most 4 MiB).
   *
   * @throws {RegistryError} also when the config's media type is not a
   * container image config (an artifact, a Helm chart).
   */
  async getConfig(
    ref: ImageReference,
    descriptor: Descriptor,
  ): Promise<{ config: ImageConfig; bytes: Uint8Array }> {
    const image = formatReference(ref);
    if (!isImageConfig(descriptor.mediaType)) {
      throw new RegistryError(
        image,
        `not a container image: its config has media type "${descriptor.mediaType}"`,
        { kind: "unsupported" },
      );
    }
    const tooLarge = () =>
      new RegistryError(
        image,
        `config ${descriptor.digest} is larger than ${MAX_CONFIG_BYTES} bytes; refusing it`,
        { kind: "too-large" },
      );
    if (descriptor.size > MAX_CONFIG_BYTES) throw tooLarge();
    let bytes = await this.#documents?.get(descriptor);
    if (bytes === undefined) {
      const stream = await this.openBlob(ref, descriptor, { what: "config" });
      bytes = await readLimited(stream, MAX_CONFIG_BYTES, tooLarge);
      await this.#documents?.put(descriptor, bytes);
    }
    let config: unknown;
    try {
      config = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      config = undefined;
    }
    if (typeof config !== "object" || config === null) {
      throw new RegistryError(
        image,
        `config ${descriptor.digest} is not a JSON object`,
        { kind: "protocol" },
      );
    }
    return { config: config as ImageConfig, bytes };
  }

  /**
   * Opens a blob as a stream that is verified while it flows: it errors as
   * soon as more bytes arrive than `descriptor.size`, and at the end when
   * there were fewer or the digest differs. Treat the content as
   * unverified until the stream has closed without error.
   *
   * A connection cut mid-way is resumed with `Range: bytes=N-` (and a
   * server that ignores `Range` is read again from the start, skipping
   * what was already delivered), up to the policy's `maxResumes` times in
   * a row without progress.
   *
   * The caller reads the stream to its end or cancels it.
   *
   * @throws {RegistryError} when the blob cannot be opened; the stream
   * errors with a {@linkcode RegistryError} later.
   */
  async openBlob(
    ref: ImageReference,
    descriptor: Descriptor,
    options: OpenBlobOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const image = formatReference(ref);
    const what = options.what ?? "blob";
    const label = `${what} ${descriptor.digest}`;
    const problem = digestProblem(descriptor.digest);
    if (problem !== undefined) {
      throw new RegistryError(image, `${what}: ${problem}`, {
        kind: "unsupported",
      });
    }
    const size = descriptor.size;
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RegistryError(image, `${label} has an invalid size`, {
        kind: "protocol",
      });
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
      throw new TypeError(`Invalid offset ${offset} for a ${size}-byte blob`);
    }
    const verifier = verifyingStream(descriptor, {
      offset,
      hash: options.hash,
      label,
      makeError: (kind, message) => new RegistryError(image, message, { kind }),
    });
    const signal = options.signal;
    const idle = this.#policy.idleTimeoutMs;
    let delivered = offset;
    let current = await this.#blobResponse(
      ref,
      descriptor,
      label,
      delivered,
      signal,
    );
    // Resumes in a row without a byte of progress; bounded overall too.
    let stuck = 0;
    let resumes = 0;
    let deliveredAtFailure = -1;
    const source = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (true) {
          let cause: unknown;
          try {
            const { done, value } = await readWithTimeout(
              current.reader,
              idle,
            );
            if (!done) {
              let chunk = value;
              if (current.skip > 0) {
                const drop = Math.min(current.skip, chunk.byteLength);
                current.skip -= drop;
                chunk = chunk.subarray(drop);
                if (chunk.byteLength === 0) continue;
              }
              delivered += chunk.byteLength;
              controller.enqueue(chunk);
              return;
            }
            if (delivered >= size && current.skip === 0) {
              controller.close();
              return;
            }
            cause = new Error("the response ended early");
          } catch (error) {
            if (signal?.aborted || this.#signal?.aborted) throw error;
            cause = error;
            await current.reader.cancel().catch(() => {});
          }
          resumes++;
          stuck = delivered > deliveredAtFailure ? 1 : stuck + 1;
          deliveredAtFailure = delivered;
          const lost = describeNetworkError(cause);
          const limit = this.#policy.maxResumes;
          if (stuck > limit || resumes > limit * 10) {
            throw new RegistryError(
              image,
              `${label}: the connection was lost after ${delivered} of ${size} bytes, ${
                stuck > limit
                  ? `${stuck} times without progress`
                  : `${resumes} times`
              }: ${lost.text}`,
              { kind: "network", retryable: true, cause },
            );
          }
          const delay = backoffDelay(stuck, this.#policy);
          this.#log(
            `${label}: connection lost after ${delivered} of ${size} bytes (${lost.text}); resuming in ${delay} ms`,
          );
          await this.#sleep(delay);
          current = await this.#blobResponse(
            ref,
            descriptor,
            label,
            delivered,
            signal,
          );
        }
      },
      cancel: async (reason) => {
        await current.reader.cancel(reason).catch(() => {});
      },
    });
    return source.pipeThrough(verifier);
  }

  /** GETs a blob from `from`, checking what the server says it sends. */
  async #blobResponse(
    ref: ImageReference,
    descriptor: Descriptor,
    label: string,
    from: number,
    signal?: AbortSignal,
  ): Promise<
    { reader: ReadableStreamDefaultReader<Uint8Array>; skip: number }
  > {
    const image = formatReference(ref);
    const headers: Record<string, string> = {};
    if (from > 0) headers.range = `bytes=${from}-`;
    const response = await this.#registryRequest(
      ref,
      `blobs/${descriptor.digest}`,
      { headers, signal },
    );
    const size = descriptor.size;
    const length = contentLength(response);
    let skip = 0;
    if (from > 0 && response.status === 416) {
      await response.body?.cancel();
      throw new RegistryError(
        image,
        `${label} ended after ${from} of ${size} bytes (the registry has no more: 416)`,
        { kind: "size", status: 416 },
      );
    }
    if (from > 0 && response.status === 206) {
      const range = parseContentRange(response.headers.get("content-range"));
      if (range === undefined || range.start !== from) {
        await response.body?.cancel();
        throw new RegistryError(
          image,
          `${label}: the registry answered a request for bytes ${from}- with Content-Range "${
            oneLine(response.headers.get("content-range") ?? "", 80)
          }"`,
          { kind: "protocol", status: 206 },
        );
      }
      if (range.total !== undefined && range.total !== size) {
        await response.body?.cancel();
        throw sizeMismatch(image, label, range.total, size);
      }
    } else if (response.status === 200) {
      if (length !== undefined && length !== size) {
        await response.body?.cancel();
        throw sizeMismatch(image, label, length, size);
      }
      skip = from;
      if (from > 0) {
        this.#log(`${label}: the server ignored Range; skipping ${from} bytes`);
      }
    } else {
      throw await statusError(image, response, label);
    }
    if (response.body === null) {
      throw new RegistryError(image, `${label}: the response has no body`, {
        kind: "protocol",
      });
    }
    return { reader: response.body.getReader(), skip };
  }

  /**
   * A request to `/v2/REPOSITORY/PATH` on the reference's registry, with
   * authorization; a 401 renews it once.
   */
  async #registryRequest(
    ref: ImageReference,
    path: string,
    init: RequestInit,
  ): Promise<Response> {
    const image = formatReference(ref);
    const endpoint = await this.#endpoint(ref);
    const url = new URL(`v2/${ref.repository}/${path}`, endpoint.base);
    let renewed = false;
    while (true) {
      const authorization = await this.#authorization(ref, endpoint);
      const response = await this.#exchange(image, endpoint, url, {
        ...init,
        authorization,
      });
      if (response.status === 401 && renewed) {
        const credential = await this.#credentialCache.get(authKey(ref));
        if (credential !== undefined) {
          await response.body?.cancel();
          throw new RegistryError(
            image,
            `${ref.registry} refused the credentials from ${credential.source} (401)`,
            {
              kind: "unauthorized",
              status: 401,
              hint: loginHint(ref.registry),
            },
          );
        }
      }
      if (response.status !== 401 || renewed) return response;
      const challenge = chooseChallenge(
        parseWwwAuthenticate(response.headers.get("www-authenticate") ?? ""),
      );
      if (challenge === undefined) return response;
      await response.body?.cancel();
      endpoint.challenge = challenge;
      this.#authorizations.delete(authKey(ref));
      renewed = true;
    }
  }

  /** The registry's endpoint, after the `/v2/` ping (once per registry). */
  #endpoint(ref: ImageReference): Promise<Endpoint> {
    let endpoint = this.#endpoints.get(ref.registry);
    if (endpoint === undefined) {
      endpoint = this.#ping(ref);
      endpoint.catch(() => this.#endpoints.delete(ref.registry));
      this.#endpoints.set(ref.registry, endpoint);
    }
    return endpoint;
  }

  async #ping(ref: ImageReference): Promise<Endpoint> {
    const image = formatReference(ref);
    const host = ref.registry === "docker.io"
      ? "registry-1.docker.io"
      : ref.registry;
    const caCerts = [
      ...this.#caCerts,
      ...await registryCaCerts(ref.registry, this.#certsDirs),
    ];
    const tlsVerify = this.#tlsVerify && !this.#insecure.has(ref.registry);
    const transport = createTransport({
      tlsVerify,
      caCerts,
      proxyEnv: this.#proxyEnv,
      log: (message) => this.#log(`${host}: ${message}`),
    });
    const httpAllowed = !tlsVerify || isLoopbackHost(registryHostname(host));
    const schemes = httpAllowed ? ["https", "http"] : ["https"];
    let firstError: RegistryError | undefined;
    for (const scheme of schemes) {
      const endpoint: Endpoint = {
        base: new URL(`${scheme}://${host}/`),
        tlsVerify,
        transport,
      };
      const last = scheme === schemes[schemes.length - 1];
      let response: Response;
      try {
        response = await this.#exchange(
          image,
          endpoint,
          new URL("v2/", endpoint.base),
          { attempts: last ? undefined : 1 },
        );
      } catch (error) {
        if (
          !last && error instanceof RegistryError &&
          (error.kind === "network" || error.kind === "tls")
        ) {
          firstError = error;
          this.#log(`${endpoint.base.origin}: ${error.detail}; trying http`);
          continue;
        }
        transport.close();
        throw firstError?.kind === "tls" ? firstError : error;
      }
      if (response.status === 200) {
        await response.body?.cancel();
        return endpoint;
      }
      if (response.status === 401) {
        const challenge = chooseChallenge(
          parseWwwAuthenticate(response.headers.get("www-authenticate") ?? ""),
        );
        await response.body?.cancel();
        if (challenge === undefined) {
          transport.close();
          throw new RegistryError(
            image,
            `${host} asks for authentication (401) with no Bearer or Basic challenge`,
            { kind: "unauthorized", status: 401 },
          );
        }
        endpoint.challenge = challenge;
        return endpoint;
      }
      transport.close();
      // A TLS server answering plain http (400): the https error says more.
      if (
        firstError !== undefined &&
        (firstError.kind === "tls" || response.status === 400)
      ) {
        await response.body?.cancel();
        throw firstError;
      }
      if (response.status === 404) {
        await response.body?.cancel();
        throw new RegistryError(
          image,
          `${host} is not a container registry (/v2/ returned 404)`,
          { kind: "not-found", status: 404 },
        );
      }
      throw await statusError(image, response, `${host}/v2/`);
    }
    throw new TypeError("unreachable");
  }

  /** The `Authorization` for a repository, from the endpoint's challenge. */
  #authorization(
    ref: ImageReference,
    endpoint: Endpoint,
  ): Promise<string | undefined> {
    const challenge = endpoint.challenge;
    if (challenge === undefined) return Promise.resolve(undefined);
    const key = authKey(ref);
    let authorization = this.#authorizations.get(key);
    if (authorization === undefined) {
      authorization = challenge.scheme === "bearer"
        ? this.#bearer(ref, endpoint, challenge)
        : this.#basic(ref);
      authorization.catch(() => this.#authorizations.delete(key));
      this.#authorizations.set(key, authorization);
    }
    return authorization;
  }

  async #basic(ref: ImageReference): Promise<string> {
    const image = formatReference(ref);
    const credential = await this.#credential(ref);
    if (credential === undefined) {
      throw new RegistryError(
        image,
        `${ref.registry} requires a login and no credentials were found for it`,
        { kind: "unauthorized", hint: loginHint(ref.registry) },
      );
    }
    if (credential.identityToken !== undefined) {
      throw new RegistryError(
        image,
        `${ref.registry} asks for Basic auth, but the credentials from ${credential.source} are an identity token`,
        { kind: "unauthorized", hint: loginHint(ref.registry) },
      );
    }
    return basicAuthorization(credential.username, credential.password);
  }

  async #bearer(
    ref: ImageReference,
    endpoint: Endpoint,
    challenge: Challenge,
  ): Promise<string> {
    const image = formatReference(ref);
    let url: URL;
    try {
      url = tokenUrl(challenge, ref.repository);
    } catch {
      throw new RegistryError(
        image,
        `${ref.registry}'s token realm is not a URL: "${
          oneLine(challenge.params.realm ?? "", 100)
        }"`,
        { kind: "protocol" },
      );
    }
    const credential = await this.#credential(ref);
    let response: Response;
    if (credential?.identityToken !== undefined) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.identityToken,
        client_id: "polythene",
        scope: pullScope(ref.repository),
      });
      if (challenge.params.service) {
        form.set("service", challenge.params.service);
      }
      const realm = new URL(challenge.params.realm ?? "");
      response = await this.#exchange(image, endpoint, realm, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    } else {
      response = await this.#exchange(image, endpoint, url, {
        authorization: credential === undefined
          ? undefined
          : basicAuthorization(credential.username, credential.password),
      });
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(
        image,
        credential === undefined
          ? `${ref.registry} requires a login (token service: ${response.status})`
          : `the token service refused the credentials from ${credential.source} (${response.status})`,
        {
          kind: "unauthorized",
          status: response.status,
          hint: loginHint(ref.registry),
        },
      );
    }
    if (response.status !== 200) {
      throw await statusError(image, response, "token service");
    }
    const bytes = await this.#readAll(
      image,
      response,
      MAX_SMALL_BODY,
      () =>
        new RegistryError(image, "the token service's answer is too large", {
          kind: "protocol",
        }),
    );
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      body = undefined;
    }
    const token = tokenFromResponse(body);
    if (token === undefined) {
      throw new RegistryError(
        image,
        "the token service's answer has no token",
        { kind: "protocol" },
      );
    }
    return `Bearer ${token}`;
  }

  #credential(ref: ImageReference): Promise<Credential | undefined> {
    const key = authKey(ref);
    let credential = this.#credentialCache.get(key);
    if (credential === undefined) {
      credential = this.#credentials(ref.registry, ref.repository);
      this.#credentialCache.set(key, credential);
    }
    return credential;
  }

  /**
   * One request, with hand-followed redirects and bounded retries on
   * connection failures, 408, 429 and 5xx. Returns the last response,
   * whatever its status.
   */
  async #exchange(
    image: string,
    endpoint: Endpoint,
    url: URL,
    init: RequestInit,
  ): Promise<Response> {
    const attempts = init.attempts ?? this.#policy.maxAttempts;
    let failures = 0;
    while (true) {
      let response: Response;
      try {
        response = await this.#follow(image, endpoint, url, init);
      } catch (error) {
        if (
          error instanceof RegistryError ||
          error instanceof Deno.errors.NotCapable
        ) {
          throw error;
        }
        if (init.signal?.aborted || this.#signal?.aborted) throw error;
        const network = describeNetworkError(error);
        if (/proxy authentication required/i.test(network.text)) {
          throw new RegistryError(
            image,
            `the proxy refused its credentials for ${url.host} (407)`,
            {
              kind: "unauthorized",
              status: 407,
              cause: error,
              hint:
                "check the user and password in HTTPS_PROXY (or HTTP_PROXY)",
            },
          );
        }
        failures++;
        const detail = `cannot connect to ${url.host}: ${network.text}`;
        if (network.tls || failures >= attempts) {
          throw new RegistryError(image, detail, {
            kind: network.tls ? "tls" : "network",
            retryable: !network.tls,
            cause: error,
            hint: network.tls ? tlsHint(url.host) : undefined,
          });
        }
        const delay = backoffDelay(failures, this.#policy);
        this.#log(`${redact(url)}: ${network.text}; retrying in ${delay} ms`);
        await this.#sleep(delay);
        continue;
      }
      if (isRetryableStatus(response.status) && failures + 1 < attempts) {
        failures++;
        const delay = retryDelay(
          failures,
          this.#policy,
          parseRetryAfter(response.headers.get("retry-after"), this.#now()),
        );
        await response.body?.cancel();
        this.#log(
          `${redact(url)}: ${response.status}; retrying in ${delay} ms`,
        );
        await this.#sleep(delay);
        continue;
      }
      return response;
    }
  }

  /** Sends `init` to `url`, following up to 10 redirects by hand. */
  async #follow(
    image: string,
    endpoint: Endpoint,
    url: URL,
    init: RequestInit,
  ): Promise<Response> {
    const allowHttp = (target: URL) =>
      plainHttpAllowed(target, endpoint.tlsVerify);
    if (url.protocol === "http:" && !allowHttp(url)) {
      throw new RegistryError(
        image,
        `refusing plain http to ${url.host}`,
        { kind: "insecure", hint: "Use --tls-verify=false to allow it" },
      );
    }
    let current = url;
    let authorization = init.authorization;
    let method = init.method ?? "GET";
    let body = init.body;
    for (let hop = 0;; hop++) {
      const headers = new Headers(init.headers);
      headers.set("user-agent", this.#userAgent);
      headers.set("accept-encoding", "identity");
      if (authorization !== undefined) {
        headers.set("authorization", authorization);
      }
      const response = await this.#send(endpoint, {
        url: current,
        method,
        headers,
        body,
        signal: combine(init.signal, this.#signal),
      });
      this.#log(`${method} ${redact(current)} → ${response.status}`);
      if (!isRedirectStatus(response.status)) return response;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(
          image,
          `more than ${MAX_REDIRECTS} redirects from ${url.host}`,
          { kind: "redirect" },
        );
      }
      const location = response.headers.get("location");
      let next: URL;
      try {
        next = new URL(location ?? "", current);
        if (location === null) throw new TypeError("no Location");
      } catch {
        throw new RegistryError(
          image,
          `${current.host} answered ${response.status} without a valid Location`,
          { kind: "redirect", status: response.status },
        );
      }
      const decision = decideRedirect(
        current,
        next,
        authorization !== undefined,
        allowHttp,
      );
      if (!decision.follow) {
        throw new RegistryError(image, `refusing a ${decision.reason}`, {
          kind: "redirect",
          status: response.status,
        });
      }
      if (!decision.keepAuthorization) authorization = undefined;
      if (response.status === 303 && method === "POST") {
        method = "GET";
        body = undefined;
      }
      current = next;
    }
  }

  /** The transport call, abandoned when no headers come within the idle timeout. */
  async #send(
    endpoint: Endpoint,
    request: Parameters<ClosableTransport["send"]>[0],
  ): Promise<Response> {
    const timer = new AbortController();
    const id = setTimeout(
      () => timer.abort(new IdleTimeout(this.#policy.idleTimeoutMs)),
      this.#policy.idleTimeoutMs,
    );
    try {
      return await endpoint.transport.send({
        ...request,
        signal: combine(request.signal, timer.signal),
      });
    } catch (error) {
      throw timer.signal.aborted ? timer.signal.reason : error;
    } finally {
      clearTimeout(id);
    }
  }

  /** Reads a whole small body with the idle timeout and a size limit. */
  async #readAll(
    image: string,
    response: Response,
    limit: number,
    tooLarge: () => Error,
  ): Promise<Uint8Array> {
    if (response.body === null) return new Uint8Array();
    const reader = response.body.getReader();
    const idle = this.#policy.idleTimeoutMs;
    const timed = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await readWithTimeout(reader, idle);
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    try {
      return await readLimited(timed, limit, tooLarge);
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      await reader.cancel().catch(() => {});
      throw new RegistryError(
        image,
        `the connection was lost while reading a response: ${
          describeNetworkError(error).text
        }`,
        { kind: "network", retryable: true, cause: error },
      );
    }
  }
}
