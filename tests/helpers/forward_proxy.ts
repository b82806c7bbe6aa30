/**
 * A small HTTP forward proxy on 127.0.0.1 (port 0) for the proxy tests:
 * `CONNECT host:port` tunnels and absolute-form `GET http://host:port/…`
 * forwarding, optionally demanding `Proxy-Authorization: Basic …`.
 *
 * It resolves names only through its own `hosts` map (a name → a loopback
 * `127.0.0.1:PORT`), so a registry named `registry.polythene.test:PORT`
 * is reachable through the proxy and nowhere else: the client cannot
 * bypass it. Every request it saw is recorded (method, target, whether
 * the credentials were right).
 *
 * Permissions: `--allow-net` on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startForwardProxy } from "./forward_proxy.ts";
 * await using proxy = startForwardProxy({ hosts: { "registry.test:5000": "127.0.0.1:5000" } });
 * // HTTPS_PROXY=http://127.0.0.1:${proxy.port}
 * ```
 *
 * @module
 */

/** What the proxy saw. */
export interface ProxyRequest {
  /** `CONNECT` or the forwarded method. */
  method: string;
  /** `host:port` asked for. */
  target: string;
  /** Whether it was let through. */
  allowed: boolean;
}

/** Options of {@linkcode startForwardProxy}. */
export interface ForwardProxyOptions {
  /** Name (`host:port`) → `127.0.0.1:PORT`; nothing else is reachable. */
  hosts: Record<string, string>;
  /** Demand these Basic credentials (407 otherwise). */
  credentials?: { user: string; password: string };
}

/** A running proxy. */
export interface ForwardProxy extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Every request seen. */
  requests: ProxyRequest[];
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

const HEAD_LIMIT = 64 * 1024;

/** Starts the proxy. */
export function startForwardProxy(
  options: ForwardProxyOptions,
): ForwardProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: ProxyRequest[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const expected = options.credentials
    ? `basic ${
      btoa(`${options.credentials.user}:${options.credentials.password}`)
    }`
    : undefined;

  const serve = async (client: Deno.Conn) => {
    open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      const { head, rest } = await readHead(client);
      const [requestLine, ...lines] = head.split("\r\n");
      const [method = "", uri = ""] = requestLine!.split(" ");
      const auth = lines.find((l) =>
        l.toLowerCase().startsWith("proxy-authorization:")
      )?.slice("proxy-authorization:".length).trim();
      let target: string;
      if (method === "CONNECT") target = uri;
      else {
        const url = new URL(uri);
        target = `${url.hostname}:${url.port || "80"}`;
      }
      const address = options.hosts[target];
      const authorized = expected === undefined ||
        (auth !== undefined &&
          `${auth.split(" ")[0]!.toLowerCase()} ${auth.split(" ")[1]}` ===
            expected);
      requests.push({
        method,
        target,
        allowed: authorized && address !== undefined,
      });
      if (!authorized) {
        await writeAll(
          client,
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        );
        return;
      }
      if (address === undefined) {
        await writeAll(
          client,
          "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
      }
      const [hostname, port] = address.split(":") as [string, string];
      upstream = await Deno.connect({ hostname, port: Number(port) });
      open.add(upstream);
      if (method === "CONNECT") {
        await writeAll(client, "HTTP/1.1 200 Connection established\r\n\r\n");
      } else {
        const url = new URL(uri);
        const kept = lines.filter((l) =>
          l !== "" && !l.toLowerCase().startsWith("proxy-")
        );
        await writeAll(
          upstream,
          `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${
            kept.join("\r\n")
          }\r\n\r\n`,
        );
      }
      if (rest.length) await upstream.write(rest);
      await Promise.all([
        client.readable.pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeTo(client.writable).catch(() => {}),
      ]);
    } catch {
      // A client or upstream gone mid-way: nothing to report.
    } finally {
      for (const conn of [client, upstream]) {
        if (conn === undefined) continue;
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed by pipeTo.
        }
      }
    }
  };

  const accepting = (async () => {
    for await (const conn of listener) {
      const task = serve(conn);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});

  const stop = async () => {
    try {
      listener.close();
    } catch {
      // Already stopped.
    }
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await accepting;
    await Promise.all([...tasks]);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    requests,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Reads up to the end of the request head; returns it and what followed. */
async function readHead(
  conn: Deno.Conn,
): Promise<{ head: string; rest: Uint8Array }> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("closed before the request head ended");
    const next = new Uint8Array(buffer.length + n);
    next.set(buffer);
    next.set(chunk.subarray(0, n), buffer.length);
    buffer = next;
    const text = new TextDecoder("latin1").decode(buffer);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      return { head: text.slice(0, end), rest: buffer.subarray(end + 4) };
    }
    if (buffer.length > HEAD_LIMIT) throw new Error("request head too long");
  }
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}
