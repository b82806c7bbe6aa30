/**
 * One push request on the wire: headers set, redirects followed by hand
 * under pull's rules (`redirect.ts`: no https → http, plain http only
 * where allowed, `Authorization` only to the same host and port), and the
 * idle timeout on requests without a body.
 *
 * @module
 */

import type { Log } from "../../log.ts";
import {
  isRedirectStatus,
  namedUrlProblem,
  nextHop,
  plainHttpAllowed,
  schemeProblem,
} from "./redirect.ts";
import { RegistryError } from "./registry_error.ts";
import type { ClosableTransport, TransportRequest } from "./transport.ts";
import { redact, sendWithIdleTimeout } from "./_http.ts";

/** One request of a push. */
export interface PushRequestInit {
  /** HTTP method. */
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH";
  /** Extra headers. */
  headers?: Record<string, string>;
  /** The body, sent again as is on a retry. */
  body?: Uint8Array<ArrayBuffer>;
  /** Tries on failures worth a retry; default the policy's. */
  attempts?: number;
}

/** What a request needs from its connection. */
export interface FollowContext {
  /** The destination as text, for messages. */
  image: string;
  /** The connection's transport. */
  transport: ClosableTransport;
  /** Whether plain http is refused off loopback. */
  tlsVerify: boolean;
  /**
   * The registry's base URL: a URL it names (an upload `Location`, a token
   * realm) may not be plain http when it is https.
   */
  origin?: URL;
  /** `User-Agent`. */
  userAgent: string;
  /** Abandon a request without a body that gets no headers for this long. */
  idleTimeoutMs: number;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Verbose log: method, URL without query, status. */
  log: Log;
}

/**
 * Sends `init` to `url`, following up to 10 redirects. Returns the first
 * response that is not a redirect; the caller reads or cancels its body.
 *
 * @throws {RegistryError} for refused plain http and refused redirects;
 * transport errors as they are
 */
export async function followRedirects(
  context: FollowContext,
  url: URL,
  init: PushRequestInit,
  authorization: string | undefined,
): Promise<Response> {
  const tlsVerify = context.tlsVerify;
  const allowHttp = (target: URL) => plainHttpAllowed(target, tlsVerify);
  const scheme = context.origin === undefined
    ? schemeProblem(url)
    : namedUrlProblem(context.origin, url);
  if (scheme !== undefined) {
    throw new RegistryError(context.image, `refusing a ${scheme}`, {
      kind: "protocol",
    });
  }
  if (url.protocol === "http:" && !allowHttp(url)) {
    throw new RegistryError(
      context.image,
      `refusing plain http to ${url.host}`,
      {
        kind: "insecure",
        hint: "Use --tls-verify=false to allow it",
      },
    );
  }
  let current = url;
  let method = init.method;
  let body = init.body;
  for (let hop = 0;; hop++) {
    const headers = new Headers(init.headers);
    headers.set("user-agent", context.userAgent);
    headers.set("accept-encoding", "identity");
    if (authorization !== undefined) {
      headers.set("authorization", authorization);
    }
    if (body !== undefined) headers.set("content-length", `${body.length}`);
    const response = await send(context, {
      url: current,
      method,
      headers,
      body,
      signal: context.signal,
    });
    context.log(`${method} ${redact(current)} → ${response.status}`);
    if (!isRedirectStatus(response.status)) return response;
    await response.body?.cancel();
    const hopTo = nextHop(
      context.image,
      url,
      current,
      response,
      hop,
      authorization !== undefined,
      allowHttp,
    );
    if (!hopTo.keepAuthorization) authorization = undefined;
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) &&
        method === "POST")
    ) {
      method = method === "HEAD" ? "HEAD" : "GET";
      body = undefined;
    }
    current = hopTo.next;
  }
}

/**
 * The transport call. Without a body it is abandoned when no headers
 * come within the idle timeout, as pull's; with one, sending takes as
 * long as the bytes need, so only the caller's signal stops it.
 */
async function send(
  context: FollowContext,
  request: TransportRequest,
): Promise<Response> {
  if (request.body !== undefined && request.body.length > 0) {
    return await context.transport.send(request);
  }
  return await sendWithIdleTimeout(
    (r) => context.transport.send(r),
    request,
    context.idleTimeoutMs,
  );
}
