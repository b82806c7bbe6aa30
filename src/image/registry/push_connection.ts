/**
 * One registry repository, opened for pushing: the `/v2/` ping (https,
 * then plain http only where pull allows it), Bearer tokens with push
 * scopes or Basic auth from the same credential files and helpers as pull,
 * bounded retries on connection failures, 408, 429 and 5xx, and redirects
 * followed by hand under pull's rules (`redirect.ts`). Requests carry byte
 * bodies (`PUT`, `PATCH`), so a retry sends the same bytes again.
 *
 * The verbose log gets one line per request, without headers or query
 * strings (upload locations carry state, signed URLs carry secrets).
 *
 * Permissions: as the pull client (`--allow-net`, `--allow-read` of
 * credential files and `certs.d`, `--allow-env`, `--allow-run` for
 * credential helpers).
 *
 * @module
 */

import { PROXY_ENV_VARS } from "./proxy.ts";
import type { Log } from "../../log.ts";
import type { ImageReference } from "../types.ts";
import {
  type Challenge,
  chooseChallenge,
  parseWwwAuthenticate,
} from "./challenge.ts";
import { type AuthContext, basicForPush, bearerForPush } from "./push_auth.ts";
import { type Credential, findCredentials } from "./credentials.ts";
import {
  isLoopbackHost,
  registryHostname,
  sameHostAndPort,
} from "./redirect.ts";
import { RegistryError } from "./registry_error.ts";
import { followRedirects, type PushRequestInit } from "./push_follow.ts";
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
import {
  describeNetworkError,
  loginHint,
  redact,
  statusError,
  tlsHint,
} from "./_http.ts";

export type { PushRequestInit } from "./push_follow.ts";

const PROXY_NAMES = new Set<string>(PROXY_ENV_VARS);

/** Only the proxy variables of the process environment. */
function processProxyEnv(name: string): string | undefined {
  return PROXY_NAMES.has(name) ? Deno.env.get(name) : undefined;
}

/** Options of {@linkcode PushConnection.open}. */
export interface PushConnectionOptions {
  /** Verify TLS and require https off loopback (default true). */
  tlsVerify?: boolean;
  /** Extra trusted CAs (PEM). */
  caCerts?: readonly string[];
  /** podman's `certs.d` directories; default {@linkcode defaultCertsDirs}. */
  certsDirs?: readonly string[];
  /** Default: {@linkcode findCredentials} over the process environment. */
  credentials?: (
    registry: string,
    repository: string,
  ) => Promise<Credential | undefined>;
  /** Overrides parts of {@linkcode DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Waits; default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock, for `Retry-After` dates. */
  now?: () => number;
  /** Verbose log. */
  log?: Log;
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /** Aborts every request. */
  signal?: AbortSignal;
  /**
   * The proxy variables (`HTTPS_PROXY`, `NO_PROXY`, ...), as pull reads
   * them; default: the process environment's.
   */
  proxyEnv?: (name: string) => string | undefined;
}

/**
 * An open connection to one repository for pushing. `close()` releases it.
 * Requests may run concurrently.
 */
export class PushConnection {
  /** The destination. */
  readonly ref: ImageReference;
  /** The destination as text, for messages. */
  readonly image: string;
  /** The retry policy in force. */
  readonly policy: RetryPolicy;
  /** `scheme://host[:port]/` of the registry. */
  readonly base: URL;
  /** Waits (the injected sleep). */
  readonly sleep: (ms: number) => Promise<void>;
  /** The verbose log. */
  readonly log: Log;
  readonly #transport: ClosableTransport;
  readonly #options: PushConnectionOptions;
  readonly #scopes: readonly string[];
  #challenge?: Challenge;
  #authorization?: Promise<string | undefined>;
  #credential?: Promise<Credential | undefined>;

  private constructor(
    ref: ImageReference,
    image: string,
    base: URL,
    transport: ClosableTransport,
    scopes: readonly string[],
    options: PushConnectionOptions,
    challenge: Challenge | undefined,
  ) {
    this.ref = ref;
    this.image = image;
    this.base = base;
    this.#transport = transport;
    this.#scopes = scopes;
    this.#options = options;
    this.#challenge = challenge;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.log = options.log ?? (() => {});
  }

  /**
   * Pings the registry of `ref` and returns a connection that authorizes
   * with `scopes` (see `pushScopes`).
   *
   * @throws {RegistryError} when the registry cannot be reached, is not a
   * registry, or refuses plain http or the certificate
   */
  static async open(
    ref: ImageReference,
    image: string,
    scopes: readonly string[],
    options: PushConnectionOptions = {},
  ): Promise<PushConnection> {
    const tlsVerify = options.tlsVerify ?? true;
    const host = ref.registry === "docker.io"
      ? "registry-1.docker.io"
      : ref.registry;
    const caCerts = [
      ...(options.caCerts ?? []),
      ...await registryCaCerts(
        ref.registry,
        options.certsDirs ?? defaultCertsDirs(Deno.env.get("HOME")),
      ),
    ];
    const transport = createTransport({
      tlsVerify,
      caCerts,
      proxyEnv: options.proxyEnv ?? processProxyEnv,
    });
    const schemes = !tlsVerify || isLoopbackHost(registryHostname(host))
      ? ["https", "http"]
      : ["https"];
    let firstError: RegistryError | undefined;
    for (const [i, scheme] of schemes.entries()) {
      const base = new URL(`${scheme}://${host}/`);
      const connection = new PushConnection(
        ref,
        image,
        base,
        transport,
        scopes,
        options,
        undefined,
      );
      const last = i === schemes.length - 1;
      let response: Response;
      try {
        response = await connection.#exchange(new URL("v2/", base), {
          method: "GET",
          attempts: last ? undefined : 1,
        }, undefined);
      } catch (error) {
        if (
          !last && error instanceof RegistryError &&
          (error.kind === "network" || error.kind === "tls")
        ) {
          firstError = error;
          continue;
        }
        transport.close();
        throw firstError?.kind === "tls" ? firstError : error;
      }
      if (response.status === 200 || response.status === 401) {
        connection.#challenge = chooseChallenge(
          parseWwwAuthenticate(response.headers.get("www-authenticate") ?? ""),
        );
        await response.body?.cancel();
        if (response.status === 401 && connection.#challenge === undefined) {
          transport.close();
          throw new RegistryError(
            image,
            `${host} asks for authentication (401) with no Bearer or Basic challenge`,
            { kind: "unauthorized", status: 401 },
          );
        }
        return connection;
      }
      transport.close();
      if (firstError !== undefined && response.status === 400) {
        await response.body?.cancel();
        throw firstError;
      }
      throw await statusError(image, response, `${host}/v2/`);
    }
    throw new TypeError("unreachable");
  }

  /** `BASE/v2/REPOSITORY/PATH`. */
  url(path: string): URL {
    return new URL(`v2/${this.ref.repository}/${path}`, this.base);
  }

  /** Closes the connections. */
  close(): void {
    this.#transport.close();
  }

  /**
   * Sends a request to `url` with authorization; a 401 gets a new token (or
   * the Basic credentials) once. Returns the last response, whatever its
   * status; the caller reads or cancels its body.
   *
   * @throws {RegistryError} on connection failures after the retries, TLS
   * failures, refused redirects, and credentials the registry refused
   */
  async request(url: URL, init: PushRequestInit): Promise<Response> {
    let renewed = false;
    while (true) {
      // Credentials go only to the registry itself: an upload Location on
      // another host gets none (a Basic authorization is the password).
      const authorization = sameHostAndPort(url, this.base)
        ? await this.#authorize()
        : undefined;
      const response = await this.#exchange(url, init, authorization);
      if (response.status !== 401) return response;
      const challenge = chooseChallenge(
        parseWwwAuthenticate(response.headers.get("www-authenticate") ?? ""),
      );
      if (renewed || challenge === undefined) {
        const credential = await this.#credential;
        if (credential === undefined) return response;
        await response.body?.cancel();
        throw new RegistryError(
          this.image,
          `${this.ref.registry} refused the credentials from ${credential.source} for a push (401)`,
          {
            kind: "unauthorized",
            status: 401,
            hint: loginHint(this.ref.registry),
          },
        );
      }
      await response.body?.cancel();
      this.#challenge = challenge;
      this.#authorization = undefined;
      renewed = true;
    }
  }

  #authorize(): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (challenge === undefined) return Promise.resolve(undefined);
    if (this.#authorization === undefined) {
      const context: AuthContext = {
        image: this.image,
        ref: this.ref,
        scopes: this.#scopes,
        credential: () => this.#lookup(),
        exchange: (url, init, authorization) =>
          this.#exchange(url, init, authorization),
      };
      const made = challenge.scheme === "bearer"
        ? bearerForPush(context, challenge)
        : basicForPush(context);
      made.catch(() => {
        if (this.#authorization === made) this.#authorization = undefined;
      });
      this.#authorization = made;
    }
    return this.#authorization;
  }

  #lookup(): Promise<Credential | undefined> {
    this.#credential ??= (this.#options.credentials ??
      ((registry, repository) => findCredentials(registry, repository)))(
        this.ref.registry,
        this.ref.repository,
      );
    return this.#credential;
  }

  /** One request with hand-followed redirects and bounded retries. */
  async #exchange(
    url: URL,
    init: PushRequestInit,
    authorization: string | undefined,
  ): Promise<Response> {
    const attempts = init.attempts ?? this.policy.maxAttempts;
    let failures = 0;
    while (true) {
      let response: Response;
      try {
        response = await followRedirects(
          {
            image: this.image,
            transport: this.#transport,
            tlsVerify: this.#options.tlsVerify ?? true,
            origin: this.base,
            userAgent: this.#options.userAgent ?? "polythene",
            idleTimeoutMs: this.policy.idleTimeoutMs,
            signal: this.#options.signal,
            log: this.log,
          },
          url,
          init,
          authorization,
        );
      } catch (error) {
        if (
          error instanceof RegistryError ||
          error instanceof Deno.errors.NotCapable ||
          this.#options.signal?.aborted
        ) {
          throw error;
        }
        const network = describeNetworkError(error);
        failures++;
        if (network.tls || failures >= attempts) {
          throw new RegistryError(
            this.image,
            `cannot connect to ${url.host}: ${network.text}`,
            {
              kind: network.tls ? "tls" : "network",
              retryable: !network.tls,
              cause: error,
              hint: network.tls ? tlsHint(url.host) : undefined,
            },
          );
        }
        const delay = backoffDelay(failures, this.policy);
        this.log(`${redact(url)}: ${network.text}; retrying in ${delay} ms`);
        await this.sleep(delay);
        continue;
      }
      if (isRetryableStatus(response.status) && failures + 1 < attempts) {
        failures++;
        const delay = retryDelay(
          failures,
          this.policy,
          parseRetryAfter(
            response.headers.get("retry-after"),
            (this.#options.now ?? Date.now)(),
          ),
        );
        await response.body?.cancel();
        this.log(`${redact(url)}: ${response.status}; retrying in ${delay} ms`);
        await this.sleep(delay);
        continue;
      }
      return response;
    }
  }
}
