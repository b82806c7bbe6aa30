/**
 * Where plain http is allowed, and whether to follow a redirect (and with
 * the `Authorization` header or without). Pure.
 *
 * @module
 */

/** The most redirects one request follows. */
import { RegistryError } from "./registry_error.ts";

export const MAX_REDIRECTS = 10;

/**
 * Whether `hostname` (as in `URL.hostname`, or a registry host without its
 * port) is a loopback address: `localhost`, `127.0.0.0/8` or `::1`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    return host.split(".").every((part) => Number(part) <= 255);
  }
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/** The host part of a registry name (`HOST[:PORT]`, `[V6][:PORT]`). */
export function registryHostname(registry: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(registry);
  if (v6) return v6[1] ?? "";
  return registry.replace(/:[0-9]+$/, "");
}

/** Whether plain http may be used for `url`: loopback, or TLS off. */
export function plainHttpAllowed(url: URL, tlsVerify: boolean): boolean {
  return !tlsVerify || isLoopbackHost(url.hostname);
}

/**
 * Why polythene will not request `url` at all (one line), or undefined
 * when it is http or https. Every URL a registry names (a token realm, an
 * upload `Location`, a redirect) goes through this before it is sent:
 * `fetch` reads `file:` URLs, so a registry must not be able to point the
 * client at the local disk.
 */
export function schemeProblem(url: URL): string | undefined {
  if (url.protocol === "https:" || url.protocol === "http:") return undefined;
  return `non-HTTP URL (${url.protocol})`;
}

/**
 * Why a URL a registry named (a token realm, an upload `Location`) may not
 * be requested, given the registry's own base URL: http(s) only
 * ({@linkcode schemeProblem}), and never plain http named by an https
 * registry (as a redirect may not go from https to http). Undefined when it
 * may be. Pure.
 */
export function namedUrlProblem(origin: URL, url: URL): string | undefined {
  const scheme = schemeProblem(url);
  if (scheme !== undefined) return scheme;
  if (origin.protocol === "https:" && url.protocol === "http:") {
    return `plain http URL named by an https registry (${url.host})`;
  }
  return undefined;
}

/** What to do with a redirect. */
export type RedirectDecision =
  | {
    follow: true;
    /** Whether `Authorization` may go to the new location. */
    keepAuthorization: boolean;
  }
  | {
    follow: false;
    /** Why not, one line. */
    reason: string;
  };

/**
 * Decides whether to follow a redirect from `from` to `to`.
 *
 * Refused: a scheme other than http(s); https → http; plain http to a host
 * where `allowHttp` says no. `Authorization` is kept only when `hasAuth` and
 * the host and effective port are the same.
 *
 * @param allowHttp Whether plain http may be used for a URL; default: only
 * loopback hosts.
 */
export function decideRedirect(
  from: URL,
  to: URL,
  hasAuth: boolean,
  allowHttp: (url: URL) => boolean = (url) => isLoopbackHost(url.hostname),
): RedirectDecision {
  const scheme = schemeProblem(to);
  if (scheme !== undefined) {
    return { follow: false, reason: `redirect to a ${scheme}` };
  }
  if (from.protocol === "https:" && to.protocol === "http:") {
    return {
      follow: false,
      reason: `redirect from https to plain http (${to.host})`,
    };
  }
  if (to.protocol === "http:" && !allowHttp(to)) {
    return {
      follow: false,
      reason: `redirect to plain http on a non-loopback host (${to.host})`,
    };
  }
  return {
    follow: true,
    keepAuthorization: hasAuth && sameHostAndPort(from, to),
  };
}

/** Whether two URLs have the same host and effective port. */
export function sameHostAndPort(a: URL, b: URL): boolean {
  return a.hostname.toLowerCase() === b.hostname.toLowerCase() &&
    effectivePort(a) === effectivePort(b);
}

function effectivePort(url: URL): string {
  if (url.port !== "") return url.port;
  return url.protocol === "https:" ? "443" : "80";
}

/** Whether a status is a redirect the client follows. */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 ||
    status === 307 || status === 308;
}

/**
 * The next hop of a redirect that `response` (a 3xx) answered at `current`,
 * by the rules of {@linkcode decideRedirect}, for pull and push alike.
 *
 * @param hop How many redirects were followed before this one.
 * @param origin The URL first asked, for the message about too many hops.
 * @returns The URL to ask next, and whether the Authorization header goes
 * with it.
 * @throws {RegistryError} (kind `redirect`) after {@linkcode MAX_REDIRECTS}
 * hops, without a valid `Location`, or for a redirect the rules refuse.
 */
export function nextHop(
  image: string,
  origin: URL,
  current: URL,
  response: Response,
  hop: number,
  hasAuthorization: boolean,
  allowHttp?: (url: URL) => boolean,
): { next: URL; keepAuthorization: boolean } {
  if (hop >= MAX_REDIRECTS) {
    throw new RegistryError(
      image,
      `more than ${MAX_REDIRECTS} redirects from ${origin.host}`,
      { kind: "redirect" },
    );
  }
  const location = response.headers.get("location");
  let next: URL;
  try {
    if (location === null) throw new TypeError("no Location");
    next = new URL(location, current);
  } catch {
    throw new RegistryError(
      image,
      `${current.host} answered ${response.status} without a valid Location`,
      { kind: "redirect", status: response.status },
    );
  }
  const decision = decideRedirect(current, next, hasAuthorization, allowHttp);
  if (!decision.follow) {
    throw new RegistryError(image, `refusing a ${decision.reason}`, {
      kind: "redirect",
      status: response.status,
    });
  }
  return { next, keepAuthorization: decision.keepAuthorization };
}
