/**
 * A fault-injecting HTTP proxy (`Deno.serve` on 127.0.0.1, port 0) in front
 * of a plain-http registry. It stands in for the internet's failure modes: a
 * Bearer token flow with its own token endpoint, error statuses (404, 429
 * with Retry-After, 500 N times), a connection reset mid-body, ignored
 * `Range`, redirects (to a second host, or chains on itself), tampered and
 * truncated bodies, an oversized manifest. It records every request it and
 * the second host saw.
 *
 * The second host is another `Deno.serve` on `127.0.0.2` (loopback, a
 * different host from 127.0.0.1 by name and address); it serves the same
 * registry and records whether it received `Authorization`.
 *
 * Rules are a mutable plan: {@linkcode FaultProxy.plan} replaces it for the
 * next test. A request is first authenticated (with a Bearer plan), then the
 * matching rules apply in order: a `status`, `redirect`, `oversize` or hook
 * answers at once; `ignore-range` changes the forwarded request;
 * `reset`, `tamper` and `truncate` change the forwarded response's body.
 *
 * Permissions: `--allow-net` on 127.0.0.1 and 127.0.0.2.
 *
 * @example
 * ```ts
 * import { startFaultProxy } from "./fault_proxy.ts";
 * await using proxy = startFaultProxy(registry);
 * proxy.plan({ rules: [{ match: { kind: "blob" }, times: 2, fault: { type: "status", status: 500 } }] });
 * // pull from proxy.host: two 500s on the first blob requests, then the real blob
 * ```
 *
 * @module
 */

import { basicAuth, type Credentials, type TlsFiles } from "./registry.ts";

/** What a request is, from its path. */
export type RequestKind =
  | "ping"
  | "token"
  | "manifest"
  | "blob"
  | "upload"
  | "other";

/** One request a server of the proxy saw. */
export interface RecordedRequest {
  /** `proxy`, or `redirect` for the second host. */
  server: "proxy" | "redirect";
  /** HTTP method. */
  method: string;
  /** URL path. */
  path: string;
  /** Query string with `?`, or "". */
  query: string;
  /** Classified from the path. */
  kind: RequestKind;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  /** The status answered (set once known). */
  status?: number;
}

/** Which requests a rule applies to; every given field must match. */
export interface Match {
  /** Request kind(s). */
  kind?: RequestKind | RequestKind[];
  /** Method, e.g. `GET`. Default: any. */
  method?: string;
  /** Exact path, or a pattern tested against the path. */
  path?: string | RegExp;
  /** Which server; default `proxy`. */
  server?: "proxy" | "redirect";
}

/** One fault. */
export type Fault =
  /** Answer with this status (404, 429, 500, ...) and a registry error body. */
  | {
    type: "status";
    status: number;
    /** Sets `Retry-After`: seconds, or a Date sent as an HTTP date. */
    retryAfter?: number | Date;
    /** Body; default a registry `{"errors":[...]}` JSON body. */
    body?: string;
    /** Extra response headers. */
    headers?: Record<string, string>;
  }
  /** Send the first `afterBytes` bytes of the body, then abort the connection. */
  | { type: "reset"; afterBytes: number }
  /** Drop the `Range` header before forwarding: the answer is 200, in full. */
  | { type: "ignore-range" }
  /**
   * Redirect. `other-host` (default): to the second host, same path.
   * `self`: a chain of `hops` redirects through the proxy itself (relative
   * Locations), then the request is served; each hop counts against the
   * rule's `times`.
   */
  | {
    type: "redirect";
    to?: "other-host" | "self";
    hops?: number;
    /** Default 307. */
    status?: 301 | 302 | 303 | 307 | 308;
  }
  /** Flip the byte at `offset` (default: the middle) of the body. */
  | { type: "tamper"; offset?: number }
  /** Answer with the first `keepBytes` bytes, Content-Length to match. */
  | { type: "truncate"; keepBytes: number }
  /**
   * Answer a manifest request with a valid-looking OCI manifest of `bytes`
   * bytes (default 4 MiB + 1 KiB); `chunked` leaves out Content-Length.
   */
  | { type: "oversize"; bytes?: number; chunked?: boolean };

/** A fault, where it applies, and how often. */
export interface FaultRule {
  /** Default: every request. */
  match?: Match;
  /** Applies to this many matching requests, then stops. Default: all. */
  times?: number;
  /** What to do. */
  fault: Fault;
}

/** The Bearer token flow the proxy enforces. */
export interface BearerPlan {
  /** Basic credentials the token endpoint requires; none: anonymous tokens. */
  credentials?: Credentials;
  /** `service` in the challenge; default `fault-proxy`. */
  service?: string;
}

/**
 * A hook that sees each request after authentication and before the rules;
 * a Response it returns is the answer. `forward` sends a request on to the
 * registry (Authorization removed).
 */
export type RequestHook = (
  request: Request,
  context: {
    kind: RequestKind;
    server: "proxy" | "redirect";
    forward: (request: Request) => Promise<Response>;
  },
) => Response | undefined | Promise<Response | undefined>;

/** Everything the proxy does besides forwarding. */
export interface FaultPlan {
  /** Require Bearer tokens from the proxy's own `/token` endpoint. */
  bearer?: BearerPlan;
  /** Faults, applied in order. */
  rules?: FaultRule[];
  /** A per-request hook. */
  hook?: RequestHook;
}

/** A running fault proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `http(s)://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  /** The second host's `http://127.0.0.2:PORT`. */
  redirectUrl: string;
  /** The second host's `127.0.0.2:PORT`. */
  redirectHost: string;
  /** The token endpoint, `URL/token`. */
  tokenUrl: string;
  /** Requests both servers saw, in order. */
  readonly requests: RecordedRequest[];
  /** Tokens the token endpoint issued. */
  readonly tokens: string[];
  /** Replaces the plan (rule counters start again); keeps the log. */
  plan(plan: FaultPlan): void;
  /** Empties `requests`. */
  clear(): void;
  /** Requests the second host saw. */
  redirected(): RecordedRequest[];
  /** Stops both servers. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** Serve https with these files (see `makeTlsFiles`); the second host stays http. */
  tls?: TlsFiles;
  /** The second host's address; default `127.0.0.2`. Loopback only. */
  redirectHostname?: string;
}

/** The manifest size limit `pull` enforces. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;

const HOP_PARAM = "__fault_proxy_hop";
const DROPPED_REQUEST_HEADERS = [
  "host",
  "authorization",
  "connection",
  "keep-alive",
  "content-length",
  "transfer-encoding",
];
const DROPPED_RESPONSE_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-encoding",
];

/**
 * Starts the proxy in front of `upstream` (a plain-http registry) and its
 * second host, each on a free loopback port. Both listen when it returns.
 *
 * @throws {RangeError} when `redirectHostname` is not a loopback name
 */
export function startFaultProxy(
  upstream: { url: string },
  options: FaultProxyOptions = {},
): FaultProxy {
  const redirectHostname = options.redirectHostname ?? "127.0.0.2";
  if (!isLoopback(redirectHostname)) {
    throw new RangeError(
      `Cannot use "${redirectHostname}" as the second host: not loopback`,
    );
  }
  const upstreamUrl = new URL(upstream.url);
  const requests: RecordedRequest[] = [];
  const tokens: string[] = [];
  let plan: FaultPlan = {};
  let remaining: number[] = [];

  const quiet = {
    onListen() {},
    onError: () => new Response("fault proxy error", { status: 500 }),
  };
  const proxyServer = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      ...quiet,
      ...(options.tls
        ? { cert: options.tls.certPem, key: options.tls.keyPem }
        : {}),
    },
    (request) => handle(request, "proxy"),
  );
  const redirectServer = Deno.serve(
    { hostname: redirectHostname, port: 0, ...quiet },
    (request) => handle(request, "redirect"),
  );
  const host = `127.0.0.1:${proxyServer.addr.port}`;
  const url = `${options.tls ? "https" : "http"}://${host}`;
  const redirectHost = `${redirectHostname}:${redirectServer.addr.port}`;
  const redirectUrl = `http://${redirectHost}`;

  async function handle(
    request: Request,
    server: "proxy" | "redirect",
  ): Promise<Response> {
    const target = new URL(request.url);
    const kind = classify(target.pathname);
    const record: RecordedRequest = {
      server,
      method: request.method,
      path: target.pathname,
      query: target.search,
      kind,
      headers: Object.fromEntries(request.headers),
    };
    requests.push(record);
    const response = await answer(request, target, kind, server);
    record.status = response.status;
    return response;
  }

  async function answer(
    request: Request,
    target: URL,
    kind: RequestKind,
    server: "proxy" | "redirect",
  ): Promise<Response> {
    if (server === "proxy" && plan.bearer) {
      if (kind === "token") return tokenEndpoint(request, target, plan.bearer);
      const denied = checkBearer(request, target, plan.bearer);
      if (denied) return denied;
    }

    const forward = (req: Request) => forwardUpstream(req, false);
    if (plan.hook) {
      const hooked = await plan.hook(request, { kind, server, forward });
      if (hooked) return hooked;
    }

    let ignoreRange = false;
    const bodyFaults: Fault[] = [];
    for (const [i, rule] of (plan.rules ?? []).entries()) {
      if (!matches(rule.match, request, target, kind, server)) continue;
      const left = remaining[i] ?? Infinity;
      if (left <= 0) continue;
      remaining[i] = left - 1;
      const fault = rule.fault;
      switch (fault.type) {
        case "status":
          return statusResponse(fault, kind);
        case "redirect": {
          const redirected = redirect(fault, target);
          if (redirected) return redirected;
          break;
        }
        case "oversize":
          return oversizeManifest(fault);
        case "ignore-range":
          ignoreRange = true;
          break;
        default:
          bodyFaults.push(fault);
      }
    }

    let response = await forwardUpstream(request, ignoreRange);
    for (const fault of bodyFaults) {
      response = await applyBodyFault(response, fault);
    }
    return response;
  }

  function tokenEndpoint(
    request: Request,
    target: URL,
    bearer: BearerPlan,
  ): Response {
    if (bearer.credentials) {
      const given = request.headers.get("authorization") ?? "";
      if (given !== basicAuth(bearer.credentials)) {
        return json(401, {
          errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }],
        }, { "www-authenticate": 'Basic realm="fault-proxy token"' });
      }
    }
    const service = bearer.service ?? "fault-proxy";
    if (target.searchParams.get("service") !== service) {
      return json(400, {
        errors: [{ code: "DENIED", message: "wrong service" }],
      });
    }
    const token = `fault-proxy-${crypto.randomUUID()}`;
    tokens.push(token);
    return json(200, {
      token,
      access_token: token,
      expires_in: 300,
      issued_at: new Date().toISOString(),
    });
  }

  function checkBearer(
    request: Request,
    target: URL,
    bearer: BearerPlan,
  ): Response | undefined {
    const given = request.headers.get("authorization") ?? "";
    const match = /^Bearer (\S+)$/.exec(given);
    if (match && tokens.includes(match[1] ?? "")) return undefined;
    const service = bearer.service ?? "fault-proxy";
    const repo = repository(target.pathname);
    const scope = repo ? `,scope="repository:${repo}:pull"` : "";
    return json(401, {
      errors: [{ code: "UNAUTHORIZED", message: "authentication required" }],
    }, {
      "www-authenticate":
        `Bearer realm="${url}/token",service="${service}"${scope}`,
    });
  }

  function redirect(
    fault: Extract<Fault, { type: "redirect" }>,
    target: URL,
  ): Response | undefined {
    const status = fault.status ?? 307;
    if ((fault.to ?? "other-host") === "other-host") {
      return new Response(null, {
        status,
        headers: {
          location: `${redirectUrl}${target.pathname}${target.search}`,
        },
      });
    }
    const hop = Number(target.searchParams.get(HOP_PARAM) ?? "0");
    if (hop >= (fault.hops ?? 1)) return undefined;
    const next = new URL(target.pathname + target.search, url);
    next.searchParams.set(HOP_PARAM, String(hop + 1));
    return new Response(null, {
      status,
      headers: { location: next.pathname + next.search },
    });
  }

  async function forwardUpstream(
    request: Request,
    ignoreRange: boolean,
  ): Promise<Response> {
    const target = new URL(request.url);
    target.searchParams.delete(HOP_PARAM);
    const to = new URL(target.pathname + target.search, upstreamUrl);
    const headers = new Headers(request.headers);
    for (const name of DROPPED_REQUEST_HEADERS) headers.delete(name);
    if (ignoreRange) headers.delete("range");
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    let upstreamResponse: Response;
    try {
      upstreamResponse = await fetch(to, {
        method: request.method,
        headers,
        body: hasBody ? request.body : undefined,
        redirect: "manual",
      });
    } catch (error) {
      return json(502, {
        errors: [{ code: "UNKNOWN", message: `upstream: ${error}` }],
      });
    }
    const out = new Headers(upstreamResponse.headers);
    for (const name of DROPPED_RESPONSE_HEADERS) out.delete(name);
    const location = out.get("location");
    if (location?.startsWith(upstreamUrl.origin)) {
      out.set("location", url + location.slice(upstreamUrl.origin.length));
    }
    return new Response(
      request.method === "HEAD" ? null : upstreamResponse.body,
      {
        status: upstreamResponse.status,
        statusText: upstreamResponse.statusText,
        headers: out,
      },
    );
  }

  const stop = async () => {
    await Promise.all([proxyServer.shutdown(), redirectServer.shutdown()]);
  };
  let stopped: Promise<void> | undefined;
  const stopOnce = () => stopped ??= stop();

  return {
    url,
    host,
    redirectUrl,
    redirectHost,
    tokenUrl: `${url}/token`,
    requests,
    tokens,
    plan(next) {
      plan = next;
      remaining = (next.rules ?? []).map((r) => r.times ?? Infinity);
    },
    clear() {
      requests.length = 0;
    },
    redirected: () => requests.filter((r) => r.server === "redirect"),
    stop: stopOnce,
    [Symbol.asyncDispose]: stopOnce,
  };
}

/** Classifies a registry API path. */
export function classify(path: string): RequestKind {
  if (path === "/token") return "token";
  if (path === "/v2/" || path === "/v2") return "ping";
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(path)) return "manifest";
  if (/^\/v2\/.+\/blobs\/uploads\//.test(path)) return "upload";
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(path)) return "blob";
  return "other";
}

/** The repository a registry API path names, if any. */
function repository(path: string): string | undefined {
  return /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(path)?.[1];
}

function matches(
  match: Match | undefined,
  request: Request,
  target: URL,
  kind: RequestKind,
  server: "proxy" | "redirect",
): boolean {
  if ((match?.server ?? "proxy") !== server) return false;
  if (match === undefined) return true;
  if (match.kind !== undefined) {
    const kinds = Array.isArray(match.kind) ? match.kind : [match.kind];
    if (!kinds.includes(kind)) return false;
  }
  if (match.method !== undefined && match.method !== request.method) {
    return false;
  }
  if (typeof match.path === "string" && match.path !== target.pathname) {
    return false;
  }
  if (match.path instanceof RegExp && !match.path.test(target.pathname)) {
    return false;
  }
  return true;
}

const STATUS_CODES: Record<number, string> = {
  401: "UNAUTHORIZED",
  403: "DENIED",
  404: "MANIFEST_UNKNOWN",
  429: "TOOMANYREQUESTS",
};

function statusResponse(
  fault: Extract<Fault, { type: "status" }>,
  kind: RequestKind,
): Response {
  const headers: Record<string, string> = { ...fault.headers };
  if (fault.retryAfter !== undefined) {
    headers["retry-after"] = fault.retryAfter instanceof Date
      ? fault.retryAfter.toUTCString()
      : String(fault.retryAfter);
  }
  if (fault.body !== undefined) {
    return new Response(fault.body, { status: fault.status, headers });
  }
  return json(fault.status, {
    errors: [{
      code: fault.status === 404 && kind === "blob"
        ? "BLOB_UNKNOWN"
        : STATUS_CODES[fault.status] ?? "UNKNOWN",
      message: `fault proxy: ${fault.status}`,
    }],
  }, headers);
}

function oversizeManifest(
  fault: Extract<Fault, { type: "oversize" }>,
): Response {
  const size = fault.bytes ?? MANIFEST_LIMIT + 1024;
  const head = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${"0".repeat(64)}`,
      size: 2,
    },
    layers: [],
    annotations: { pad: "" },
  });
  // Pad inside the last string so the body stays valid JSON.
  const cut = head.length - 3;
  const pad = Math.max(0, size - head.length);
  const bytes = new TextEncoder().encode(
    head.slice(0, cut) + "x".repeat(pad) + head.slice(cut),
  );
  const headers = new Headers({
    "content-type": "application/vnd.oci.image.manifest.v1+json",
  });
  if (!fault.chunked) headers.set("content-length", String(bytes.length));
  const body = fault.chunked ? chunks(bytes, 64 * 1024) : bytes;
  return new Response(body, { status: 200, headers });
}

async function applyBodyFault(
  response: Response,
  fault: Fault,
): Promise<Response> {
  if (response.body === null || response.status >= 300) return response;
  const headers = new Headers(response.headers);
  const init = { status: response.status, statusText: response.statusText };
  switch (fault.type) {
    case "tamper": {
      const bytes = await response.bytes();
      if (bytes.length > 0) {
        const at = Math.min(
          fault.offset ?? Math.floor(bytes.length / 2),
          bytes.length - 1,
        );
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      }
      return new Response(bytes, { ...init, headers });
    }
    case "truncate": {
      const bytes = (await response.bytes()).slice(0, fault.keepBytes);
      headers.set("content-length", String(bytes.length));
      return new Response(bytes, { ...init, headers });
    }
    case "reset":
      return new Response(cutAfter(response.body, fault.afterBytes), {
        ...init,
        headers,
      });
    default:
      return response;
  }
}

/** Passes `limit` bytes through, then errors: the server aborts the connection. */
function cutAfter(
  body: ReadableStream<Uint8Array>,
  limit: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        await reader.cancel().catch(() => {});
        controller.error(new Error("fault proxy: connection reset"));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const part = value.subarray(0, limit - sent);
      sent += part.length;
      controller.enqueue(part);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function chunks(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
