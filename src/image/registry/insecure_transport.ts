/**
 * https without certificate verification (`--tls-verify=false`), through
 * `node:https` with `rejectUnauthorized: false`: the only per-request way
 * Deno 2.9 has (see `transport.ts`). A module of its own, imported on the
 * first such request, because `node:https` costs about 20 ms to load and
 * almost every pull goes without it.
 *
 * Permissions: `--allow-net` to the registry.
 *
 * @module
 */

import { Agent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { TransportRequest } from "./transport.ts";

/** Sends requests over one keep-alive agent; `close` ends its sockets. */
export interface InsecureSender {
  /** Sends one request; resolves with the response at its headers. */
  send(request: TransportRequest): Promise<Response>;
  /** Destroys the agent. */
  close(): void;
}

/**
 * An {@linkcode InsecureSender} trusting `caCerts` (possibly none) and
 * skipping verification. `ca` is always given, even empty: without it
 * node:tls loads the system roots, which needs `--allow-sys` and
 * `--allow-env` in Deno 2.9.
 */
export function insecureSender(caCerts: readonly string[]): InsecureSender {
  const agent = new Agent({
    keepAlive: true,
    rejectUnauthorized: false,
    ca: [...caCerts],
  });
  return {
    send: (request) => nodeSend(request, agent),
    close: () => agent.destroy(),
  };
}

function nodeSend(request: TransportRequest, agent: Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const req = httpsRequest(request.url, {
      method: request.method ?? "GET",
      headers,
      agent,
      signal: request.signal,
    }, (res) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) {
          for (const item of value) responseHeaders.append(name, item);
        } else if (value !== undefined) {
          responseHeaders.set(name, String(value));
        }
      }
      const status = res.statusCode ?? 0;
      const noBody = request.method === "HEAD" || status === 204 ||
        status === 304;
      if (noBody) res.resume();
      try {
        resolve(
          new Response(
            noBody
              ? null
              : Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>,
            { status, headers: responseHeaders },
          ),
        );
      } catch (error) {
        res.destroy();
        reject(error);
      }
    });
    req.on("error", reject);
    req.end(request.body);
  });
}
