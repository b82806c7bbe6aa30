/**
 * Which proxy a request goes through, with the semantics of Go's
 * `net/http.ProxyFromEnvironment` (golang.org/x/net/http/httpproxy), which
 * podman and skopeo use:
 *
 * - `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones; the
 *   upper-case name wins over the lower-case one when both are set and
 *   not empty; `HTTP_PROXY` is ignored under CGI (`REQUEST_METHOD` set);
 * - a proxy value without a scheme is `http://VALUE`;
 * - `localhost` and loopback addresses are never proxied;
 * - `NO_PROXY` is a comma-separated list: `*` (nothing is proxied), an IP
 *   (`10.0.0.1`, optionally `:PORT`), a CIDR (`10.0.0.0/8`), or a domain
 *   (`example.com` matches it and its subdomains, `.example.com` and
 *   `*.example.com` only subdomains), optionally with `:PORT`. Names are
 *   compared as written: no DNS lookup.
 *
 * Pure. The credentials of a proxy URL are kept out of
 * {@linkcode ProxyChoice.display}.
 *
 * @module
 */

/** A proxy to use. */
export interface ProxyChoice {
  /** The proxy's URL without user information. */
  url: string;
  /** From the URL's user information, decoded. */
  basicAuth?: { username: string; password: string };
  /** What to print: the URL with any credentials removed. */
  display: string;
  /** The variable it came from. */
  variable: string;
}

/** The proxy variables, upper-case first. */
export const PROXY_ENV_VARS = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "REQUEST_METHOD",
] as const;

/**
 * The proxy for `url`, or undefined to connect directly. Pure.
 *
 * @throws {TypeError} when the variable's value is not a usable URL (the
 * message names the variable, never the value, which may hold a password).
 */
export function proxyFor(
  url: URL,
  env: (name: string) => string | undefined,
): ProxyChoice | undefined {
  const pick = (upper: string) => {
    const value = env(upper);
    if (value) return { variable: upper, value };
    const lower = env(upper.toLowerCase());
    return lower ? { variable: upper.toLowerCase(), value: lower } : undefined;
  };
  let chosen: { variable: string; value: string } | undefined;
  if (url.protocol === "https:") chosen = pick("HTTPS_PROXY");
  else if (url.protocol === "http:" && !env("REQUEST_METHOD")) {
    chosen = pick("HTTP_PROXY");
  }
  if (chosen === undefined) return undefined;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (!useProxy(hostOf(url), port, env("NO_PROXY") || env("no_proxy") || "")) {
    return undefined;
  }
  return parseProxy(chosen.value, chosen.variable);
}

/**
 * What is wrong with the proxy variables that would be used (the
 * upper-case name when set, else the lower-case one), or undefined. The
 * message names the variable, never its value. Pure.
 */
export function proxyEnvProblem(
  env: (name: string) => string | undefined,
): string | undefined {
  for (const upper of ["HTTPS_PROXY", "HTTP_PROXY"]) {
    const lower = upper.toLowerCase();
    const variable = env(upper) ? upper : env(lower) ? lower : undefined;
    if (variable === undefined) continue;
    try {
      parseProxy(env(variable)!, variable);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

/** Whether a host (no brackets) and port go through the proxy. Pure. */
export function useProxy(host: string, port: string, noProxy: string): boolean {
  const name = host.toLowerCase();
  if (name === "localhost") return false;
  const ip = parseIp(name);
  if (ip !== undefined && isLoopback(ip)) return false;
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return false;
    if (entry.includes("/")) {
      if (ip !== undefined && cidrContains(entry, ip)) return false;
      continue;
    }
    const [entryHost, entryPort] = splitHostPort(entry);
    const portOk = entryPort === "" || entryPort === port;
    const entryIp = parseIp(entryHost);
    if (entryIp !== undefined) {
      if (ip !== undefined && sameIp(entryIp, ip) && portOk) return false;
      continue;
    }
    let domain = entryHost.startsWith("*.") ? entryHost.slice(1) : entryHost;
    const matchHost = !domain.startsWith(".");
    if (matchHost) domain = `.${domain}`;
    if (
      (name.endsWith(domain) || (matchHost && name === domain.slice(1))) &&
      portOk
    ) {
      return false;
    }
  }
  return true;
}

/** `value` as a proxy URL (`http://` added when it has no scheme). Pure. */
export function parseProxy(value: string, variable: string): ProxyChoice {
  let url: URL | undefined;
  try {
    url = new URL(value);
    if (!/^(https?|socks5h?):$/.test(url.protocol)) url = undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      throw new TypeError(`${variable} is not a valid proxy URL`);
    }
  }
  const basicAuth = url.username || url.password
    ? {
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    }
    : undefined;
  url.username = "";
  url.password = "";
  const bare = url.href.replace(/\/$/, "");
  return {
    url: bare,
    ...(basicAuth ? { basicAuth } : {}),
    display: basicAuth ? bare.replace("://", "://***@") : bare,
    variable,
  };
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function splitHostPort(entry: string): [string, string] {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracket) return [bracket[1]!, bracket[2] ?? ""];
  const colons = entry.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(":") as [string, string];
    return [host, port];
  }
  return [entry, ""];
}

/** An address as 16 bytes (IPv4 mapped), or undefined. */
function parseIp(text: string): number[] | undefined {
  const v4 = parseV4(text);
  if (v4 !== undefined) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4];
  if (!text.includes(":") || !/^[0-9a-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const group of part.split(":")) {
      if (group.includes(".")) {
        const tail = parseV4(group);
        if (tail === undefined) return undefined;
        out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(group)) {
        out.push(parseInt(group, 16));
      } else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const words = [
    ...head,
    ...new Array(halves.length === 2 ? fill : 0).fill(0),
    ...tail,
  ];
  return words.flatMap((w) => [w >> 8, w & 255]);
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => /^\d{1,3}$/.test(p) ? Number(p) : NaN);
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : undefined;
}

function isLoopback(ip: number[]): boolean {
  const mapped = ip.slice(0, 12).join() === "0,0,0,0,0,0,0,0,0,0,255,255";
  if (mapped) return ip[12] === 127;
  return ip.slice(0, 15).every((b) => b === 0) && ip[15] === 1;
}

function sameIp(a: number[], b: number[]): boolean {
  return a.every((byte, i) => byte === b[i]);
}

function cidrContains(cidr: string, ip: number[]): boolean {
  const [base, bitsText] = cidr.split("/") as [string, string];
  const network = parseIp(base);
  const bits = Number(bitsText);
  if (network === undefined || !/^\d+$/.test(bitsText)) return false;
  const v4 = parseV4(base) !== undefined;
  const total = v4 ? bits + 96 : bits;
  if (total > 128 || (v4 && bits > 32)) return false;
  // An IPv4 network only holds IPv4 addresses, and an IPv6 one IPv6.
  const ipIsV4 = ip.slice(0, 12).join() === "0,0,0,0,0,0,0,0,0,0,255,255";
  if (v4 !== ipIsV4) return false;
  for (let i = 0; i < total; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((network[byte]! & mask) !== (ip[byte]! & mask)) return false;
  }
  return true;
}
