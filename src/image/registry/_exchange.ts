/**
 * The request side of the registry client: one exchange with a registry
 * endpoint, with hand-followed redirects (never sending `Authorization` to
 * another host, never from https to http), bounded retries with backoff
 * on connection failures, 408, 429 and 5xx, and an idle timeout on headers
 * and bodies. Internal to `client.ts`.
 *
 * Permissions: `--allow-net`.
 *
 * @module
 */

import type { Log } from "../../log.ts";
import type { Challenge } from "./challenge.ts";
import {
  isRedirectStatus,
  namedUrlProblem,
  nextHop,
  plainHttpAllowed,
} from "./redirect.ts";
import { RegistryError } from "./registry_error.ts";
import {
  backoffDelay,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from "./retry.ts";
import type { ClosableTransport } from "./transport.ts";
import { readLimited } from "./verify.ts";
import {
  combine,
  describeNetworkError,
  readWithTimeout,
  redact,
  sendWithIdleTimeout,
  tlsHint,
} from "./_http.ts";

/** A registry as pinged: where, how, and its auth challenge. */
export interface Endpoint {
  /** `scheme://host[:port]/`. */
  base: URL;
  /** Whether certificates are verified and plain http refused here. */
  tlsVerify: boolean;
  /** Its connections. */
  transport: ClosableTransport;
  /** The challenge of its `/v2/` (or of a later 401). */
  challenge?: Challenge;
}

/** One request to an endpoint. */
export interface ExchangeInit {
  /** Default `GET`. */
  method?: "GET" | "POST";
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body (token requests). */
  body?: string;
  /** Sent as `Authorization` (to the same host only). */
  authorization?: string;
  /** Tries; default the policy's. */
  attempts?: number;
  /** Aborts this request. */
  signal?: AbortSignal;
}

/** What an {@linkcode Exchanger} needs. */
export interface ExchangerOptions {
  /** Retries, backoff and the idle timeout. */
  policy: RetryPolicy;
  /** Waits. */
  sleep: (ms: number) => Promise<void>;
  /** The clock, for `Retry-After` dates. */
  now: () => number;
  /** Verbose log. */
  log: Log;
  /** Sent as `User-Agent`. */
  userAgent: string;
  /** Aborts every request. */
  signal?: AbortSignal;
}

/** Sends requests to registry endpoints. */
export class Exchanger {
  readonly #policy: RetryPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #log: Log;
  readonly #userAgent: string;
  readonly #signal?: AbortSignal;

  /** Makes an exchanger. */
  constructor(options: ExchangerOptions) {
    this.#policy = options.policy;
    this.#sleep = options.sleep;
    this.#now = options.now;
    this.#log = options.log;
    this.#userAgent = options.userAgent;
    this.#signal = options.signal;
  }

  /**
   * One request, with hand-followed redirects and bounded retries on
   * connection failures, 408, 429 and 5xx. Returns the last response,
   * whatever its status.
   */
  async exchange(
    image: string,
    endpoint: Endpoint,
    url: URL,
    init: ExchangeInit,
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
    init: ExchangeInit,
  ): Promise<Response> {
    const allowHttp = (target: URL) =>
      plainHttpAllowed(target, endpoint.tlsVerify);
    const scheme = namedUrlProblem(endpoint.base, url);
    if (scheme !== undefined) {
      throw new RegistryError(image, `refusing a ${scheme}`, {
        kind: "protocol",
      });
    }
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
      const hopTo = nextHop(
        image,
        url,
        current,
        response,
        hop,
        authorization !== undefined,
        allowHttp,
      );
      if (!hopTo.keepAuthorization) authorization = undefined;
      if (response.status === 303 && method === "POST") {
        method = "GET";
        body = undefined;
      }
      current = hopTo.next;
    }
  }

  /** The transport call, abandoned when no headers come within the idle timeout. */
  async #send(
    endpoint: Endpoint,
    request: Parameters<ClosableTransport["send"]>[0],
  ): Promise<Response> {
    return await sendWithIdleTimeout(
      (r) => endpoint.transport.send(r),
      request,
      this.#policy.idleTimeoutMs,
    );
  }

  /** Reads a whole small body with the idle timeout and a size limit. */
  async readAll(
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
