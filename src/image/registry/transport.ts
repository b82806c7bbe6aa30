/**
 * The HTTP seam of the registry client: one request in, one response out,
 * redirects never followed (the client decides about each one).
 *
 * TLS, as Deno 2.9 allows it:
 *
 * - Verified (the default): `fetch` with a `Deno.createHttpClient` that adds
 *   `caCerts` to the default roots. A CA given this way must be a CA or a
 *   self-signed leaf with `CA:FALSE`: rustls refuses a self-signed
 *   certificate with `CA:TRUE` as the server's own certificate
 *   (`CaUsedAsEndEntity`), even when it is trusted.
 * - Unverified (`--tls-verify=false`): `Deno.createHttpClient` has no option
 *   to skip verification, and the `--unsafely-ignore-certificate-errors`
 *   flag is process-wide and fixed at start (a compiled binary would carry
 *   it for every host). `node:https` with `rejectUnauthorized: false` does
 *   skip it, per request, in Deno 2.9.6, so https requests go through
 *   `node:https` then (with an explicit, possibly empty, `ca` list: without
 *   one, node:tls loads the system roots, which needs `--allow-sys` and
 *   `--allow-env=NODE_USE_SYSTEM_CA`). Plain http always uses `fetch`.
 *
 * Proxies: each request's URL is given to `proxy.ts` (Go's rules for
 * `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); the answer picks one of the
 * transport's clients (direct, or `Deno.createHttpClient({ proxy })`, which
 * tunnels https with `CONNECT` and forwards plain http). Deno's own reading
 * of those variables is kept out (see `createHttpClient` below). The
 * `node:https` path cannot use a proxy and refuses to.
 *
 * Every request asks for `Accept-Encoding: identity`: digests and `Range`
 * offsets are about the stored bytes, so no transfer decoding may happen.
 *
 * Permissions: `--allow-net` to the registry and the hosts it redirects to;
 * `--allow-read` of `certs.d` directories for {@linkcode registryCaCerts}.
 *
 * @module
 */

import { type ProxyChoice, proxyFor } from "./proxy.ts";
import type { InsecureSender } from "./insecure_transport.ts";

/** One HTTP request. */
export interface TransportRequest {
  /** Absolute http(s) URL. */
  url: URL;
  /** Default `GET`. `PUT` and `PATCH` are for push. */
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH";
  /** Request headers. */
  headers: Headers;
  /** Request body: a token request's form, or push's blob bytes. */
  body?: string | Uint8Array<ArrayBuffer>;
  /** Aborts the request and its body. */
  signal?: AbortSignal;
}

/**
 * Sends one request and resolves with the response as soon as its headers
 * have arrived; 3xx responses are returned, not followed. Rejects on
 * connection and TLS failures. The caller consumes or cancels the body.
 */
export type Transport = (request: TransportRequest) => Promise<Response>;

/** A transport that holds connections; `close()` releases them. */
export interface ClosableTransport {
  /** Sends one request. */
  send: Transport;
  /** Closes idle connections; in-flight bodies may still be read. */
  close(): void;
}

/** Options of {@linkcode createTransport}. */
export interface TransportOptions {
  /** Verify TLS certificates (default true). */
  tlsVerify?: boolean;
  /** Extra trusted CA certificates, PEM. */
  caCerts?: readonly string[];
  /**
   * Where the proxy variables are read (see `proxy.ts`); default: no
   * proxy. Deno's own reading of them is switched off either way, so that
   * the decision is made once, here, per request URL.
   */
  proxyEnv?: (name: string) => string | undefined;
  /** Told once per proxy chosen (never its credentials). */
  log?: (message: string) => void;
}

/** Variables Deno's HTTP client would read by itself (set aside here). */
export const DENO_PROXY_VARS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NO_PROXY",
  "no_proxy",
];

/**
 * `Deno.createHttpClient` without the proxy variables of the process
 * environment, which it reads when the client is made (and applies even to
 * loopback): they are set aside for that synchronous call and put back.
 * Without `--allow-env` for them, the client is made as is.
 */
function createHttpClient(
  options: Deno.CreateHttpClientOptions,
): Deno.HttpClient {
  const saved = new Map<string, string>();
  try {
    for (const name of DENO_PROXY_VARS) {
      const value = Deno.env.get(name);
      if (value !== undefined) saved.set(name, value);
    }
    for (const name of saved.keys()) Deno.env.delete(name);
  } catch {
    // No permission to read or change them: leave them be.
  }
  try {
    return Deno.createHttpClient(options);
  } finally {
    for (const [name, value] of saved) Deno.env.set(name, value);
  }
}

/**
 * Creates the transport for one registry.
 *
 * @param options `tlsVerify: false` makes https go through `node:https`
 * without certificate verification (see the module doc).
 */
export function createTransport(
  options: TransportOptions = {},
): ClosableTransport {
  const caCerts = [...(options.caCerts ?? [])];
  const base = caCerts.length > 0 ? { caCerts } : {};
  const proxyEnv = options.proxyEnv ?? (() => undefined);
  // One client per proxy decision ("" is direct), made on first use.
  const clients = new Map<string, Deno.HttpClient>();
  const clientFor = (proxy: ProxyChoice | undefined) => {
    // Credentials are part of the key (in memory only, never printed).
    const key = proxy === undefined
      ? ""
      : `${proxy.url} ${JSON.stringify(proxy.basicAuth ?? null)}`;
    let client = clients.get(key);
    if (client === undefined) {
      if (proxy !== undefined) {
        options.log?.(`through the proxy ${proxy.display} (${proxy.variable})`);
      }
      client = createHttpClient(
        proxy === undefined ? base : {
          ...base,
          proxy: {
            url: proxy.url,
            ...(proxy.basicAuth ? { basicAuth: proxy.basicAuth } : {}),
          },
        },
      );
      clients.set(key, client);
    }
    return client;
  };
  const closeAll = () => {
    for (const client of clients.values()) client.close();
    clients.clear();
  };
  const fetchSend: Transport = async (request) =>
    await fetch(request.url, {
      method: request.method ?? "GET",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: request.signal,
      client: clientFor(proxyFor(request.url, proxyEnv)),
    });
  if (options.tlsVerify !== false) {
    return { send: fetchSend, close: closeAll };
  }
  // node:https costs about 20 ms to load: only a pull that needs it pays.
  let insecure: Promise<InsecureSender> | undefined;
  const insecureSend = async (request: TransportRequest) => {
    insecure ??= import("./insecure_transport.ts").then((m) =>
      m.insecureSender(caCerts)
    );
    return await (await insecure).send(request);
  };
  return {
    send: (request) => {
      if (request.url.protocol !== "https:") return fetchSend(request);
      if (proxyFor(request.url, proxyEnv) !== undefined) {
        return Promise.reject(
          new Error(
            `an insecure https registry cannot be reached through a proxy here (no unverified TLS through a proxy in Deno); add ${request.url.hostname} to NO_PROXY, trust its CA, or use --puller auto or podman`,
          ),
        );
      }
      return insecureSend(request);
    },
    close: () => {
      // Also when the module is still loading: its agent is then closed
      // as soon as it exists.
      insecure?.then((sender) => sender.close(), () => {});
      closeAll();
    },
  };
}

/**
 * The CA certificates podman would use for `registry` (`HOST[:PORT]`):
 * every `*.crt` file in `DIR/REGISTRY/` for each of `dirs`. Files that
 * cannot be read are skipped.
 *
 * @param dirs Default: `/etc/containers/certs.d`, `/etc/docker/certs.d`,
 * and `$HOME/.config/containers/certs.d` when `home` is given.
 */
export async function registryCaCerts(
  registry: string,
  dirs: readonly string[],
): Promise<string[]> {
  const certs: string[] = [];
  if (registry.includes("/") || registry.startsWith(".")) return certs;
  for (const dir of dirs) {
    const hostDir = `${dir}/${registry}`;
    let names: string[];
    try {
      names = [];
      for await (const entry of Deno.readDir(hostDir)) {
        if (entry.name.endsWith(".crt")) names.push(entry.name);
      }
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      try {
        certs.push(await Deno.readTextFile(`${hostDir}/${name}`));
      } catch {
        // Unreadable: podman skips it too.
      }
    }
  }
  return certs;
}

/** podman's certs.d directories. Pure. */
export function defaultCertsDirs(home: string | undefined): string[] {
  const dirs = ["/etc/containers/certs.d", "/etc/docker/certs.d"];
  if (home) dirs.unshift(`${home}/.config/containers/certs.d`);
  return dirs;
}
