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
import { chooseChallenge, parseWwwAuthenticate } from "./challenge.ts";
import { findCredentials } from "./credentials.ts";
import { RegistryError } from "./registry_error.ts";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from "./retry.ts";
import { defaultCertsDirs } from "./transport.ts";
import { digestOf, readLimited } from "./verify.ts";
import { Authenticator, type CredentialSource } from "./_auth.ts";
import { type OpenBlobOptions, openBlobStream } from "./_blob.ts";
import { type Endpoint, type ExchangeInit, Exchanger } from "./_exchange.ts";
import { contentLength, loginHint, statusError } from "./_http.ts";
import { parseManifest } from "./_manifest.ts";
import { type PingContext, pingRegistry } from "./_ping.ts";

export type { CredentialSource } from "./_auth.ts";
export type { OpenBlobOptions } from "./_blob.ts";

/** The largest manifest polythene reads: 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The largest image config polythene reads: 4 MiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

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

/**
 * Pulls manifests and blobs from registries. One client holds connections,
 * pings and tokens for every registry it talks to; call `close()` when
 * done. Methods may run concurrently.
 *
 * The work is split by concern: the `/v2/` ping (`_ping.ts`), auth
 * negotiation (`_auth.ts`), requests with redirects and retries
 * (`_exchange.ts`) and blob streams (`_blob.ts`); this class ties them
 * together and resolves manifests and configs.
 */
export class RegistryClient {
  readonly #policy: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #log: Log;
  readonly #signal?: AbortSignal;
  readonly #documents?: DocumentCache;
  readonly #exchanger: Exchanger;
  readonly #auth: Authenticator;
  readonly #pingContext: PingContext;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();

  constructor(options: RegistryClientOptions = {}) {
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#log = options.log ?? (() => {});
    this.#signal = options.signal;
    this.#documents = options.documents;
    this.#exchanger = new Exchanger({
      policy: this.#policy,
      sleep: this.#sleep,
      now: options.now ?? Date.now,
      log: this.#log,
      userAgent: options.userAgent ?? "polythene",
      signal: this.#signal,
    });
    this.#auth = new Authenticator(
      this.#exchanger,
      options.credentials ??
        ((registry, repository) => findCredentials(registry, repository)),
    );
    this.#pingContext = {
      tlsVerify: options.tlsVerify ?? true,
      insecure: new Set(options.insecureRegistries ?? []),
      caCerts: options.caCerts ?? [],
      certsDirs: options.certsDirs ?? defaultCertsDirs(Deno.env.get("HOME")),
      proxyEnv: options.proxyEnv,
      log: this.#log,
      exchanger: this.#exchanger,
    };
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
        bytes = await this.#exchanger.readAll(
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
   * Opens a blob as a stream verified while it flows, resumed with `Range`
   * after a cut connection; see {@linkcode openBlobStream}.
   *
   * @throws {RegistryError} when the blob cannot be opened; the stream
   * errors with a {@linkcode RegistryError} later.
   */
  openBlob(
    ref: ImageReference,
    descriptor: Descriptor,
    options: OpenBlobOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return openBlobStream(
      {
        policy: this.#policy,
        signal: this.#signal,
        log: this.#log,
        sleep: this.#sleep,
        request: (ref, path, init) => this.#registryRequest(ref, path, init),
      },
      ref,
      descriptor,
      options,
    );
  }

  /**
   * A request to `/v2/REPOSITORY/PATH` on the reference's registry, with
   * authorization; a 401 renews it once.
   */
  async #registryRequest(
    ref: ImageReference,
    path: string,
    init: ExchangeInit,
  ): Promise<Response> {
    const image = formatReference(ref);
    const endpoint = await this.#endpoint(ref);
    const url = new URL(`v2/${ref.repository}/${path}`, endpoint.base);
    let renewed = false;
    while (true) {
      const authorization = await this.#auth.authorization(ref, endpoint);
      const response = await this.#exchanger.exchange(image, endpoint, url, {
        ...init,
        authorization,
      });
      if (response.status === 401 && renewed) {
        const credential = await this.#auth.lookedUp(ref);
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
      this.#auth.forget(ref);
      renewed = true;
    }
  }

  /** The registry's endpoint, after the `/v2/` ping (once per registry). */
  #endpoint(ref: ImageReference): Promise<Endpoint> {
    let endpoint = this.#endpoints.get(ref.registry);
    if (endpoint === undefined) {
      endpoint = pingRegistry(ref, this.#pingContext);
      endpoint.catch(() => this.#endpoints.delete(ref.registry));
      this.#endpoints.set(ref.registry, endpoint);
    }
    return endpoint;
  }
}
