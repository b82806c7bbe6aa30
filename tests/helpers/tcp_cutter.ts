/**
 * A TCP forwarder on 127.0.0.1 (port 0) that can cut a connection in the
 * middle of a request body: a real reset as the client sees it, which an
 * HTTP-level proxy cannot make (its handler can only answer). Put it in
 * front of the fault proxy, whose hook buffers upload bodies, so that the
 * cut part of a request never reaches the registry.
 *
 * {@linkcode TcpCutter.cutRequest} arms one cut: the `nth` request whose
 * request line starts with `METHOD ` (counted over every connection from
 * then on) is forwarded for `afterBytes` bytes past its request line's
 * start, then both sides of its connection are closed. With `"response"`
 * the request goes through whole and the connection is closed after the first
 * bytes of the answer: the server did the work, the client never hears of
 * it. With `times`, that many matching requests in a row are cut: Deno's
 * `fetch` quietly sends a request again, once, when its connection closes
 * before an answer, so a `fetch` client sees an error only at the second.
 *
 * Permissions: `--allow-net` on 127.0.0.1.
 *
 * @module
 */

/** A running forwarder. */
export interface TcpCutter extends AsyncDisposable {
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  /** Arms a cut (see the module doc). */
  cutRequest(
    method: string,
    nth: number,
    afterBytes: number | "response",
    times?: number,
  ): void;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Stops listening and closes every connection. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a forwarder to `target` (`HOST:PORT`, plain TCP). */
export function startTcpCutter(target: string): TcpCutter {
  const [hostname, port] = [
    target.slice(0, target.lastIndexOf(":")),
    Number(target.slice(target.lastIndexOf(":") + 1)),
  ];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let armed:
    | {
      marker: Uint8Array;
      left: number;
      after: number | "response";
      times: number;
    }
    | undefined;
  let cuts = 0;
  const pumps: Promise<void>[] = [];

  const close = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  /** Index just past the marker's start in `chunk`, or -1. */
  const find = (chunk: Uint8Array, marker: Uint8Array): number => {
    outer: for (let i = 0; i + marker.length <= chunk.length; i++) {
      for (let j = 0; j < marker.length; j++) {
        if (chunk[i + j] !== marker[j]) continue outer;
      }
      return i;
    }
    return -1;
  };

  async function pump(client: Deno.Conn, server: Deno.Conn): Promise<void> {
    let dropResponse = false;
    const back = (async () => {
      const buffer = new Uint8Array(65536);
      try {
        while (true) {
          const n = await server.read(buffer);
          if (n === null) break;
          if (dropResponse) {
            // A few bytes of the status line: the client cannot take the
            // request for one that never started, and send it again.
            await writeAll(client, buffer.subarray(0, Math.min(n, 9)));
            cuts++;
            close(server);
            break;
          }
          await writeAll(client, buffer.subarray(0, n));
        }
      } catch { /* either side closed */ }
      close(client);
    })();
    const buffer = new Uint8Array(65536);
    let cutAt: number | undefined;
    try {
      while (true) {
        const n = await client.read(buffer);
        if (n === null) break;
        let chunk = buffer.subarray(0, n);
        if (cutAt === undefined && armed !== undefined) {
          const at = find(chunk, armed.marker);
          if (at >= 0 && --armed.left === 0) {
            if (armed.after === "response") dropResponse = true;
            else cutAt = armed.after;
            armed = armed.times > 1
              ? { ...armed, left: 1, times: armed.times - 1 }
              : undefined;
            chunk = chunk.subarray(at);
            await writeAll(server, buffer.subarray(0, at));
          }
        }
        if (cutAt !== undefined) {
          const part = chunk.subarray(0, cutAt);
          await writeAll(server, part);
          cutAt -= part.length;
          if (cutAt <= 0) {
            cuts++;
            break;
          }
          continue;
        }
        await writeAll(server, chunk);
      }
    } catch { /* either side closed */ }
    close(client);
    close(server);
    await back;
  }

  const accepting = (async () => {
    for await (const client of listener) {
      open.add(client);
      try {
        const server = await Deno.connect({ hostname, port });
        open.add(server);
        pumps.push(pump(client, server));
      } catch {
        close(client);
      }
    }
  })().catch(() => {});

  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const conn of [...open]) close(conn);
      await accepting;
      await Promise.all(pumps);
    })();

  return {
    host: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cutRequest(method, nth, afterBytes, times = 1) {
      armed = {
        marker: new TextEncoder().encode(`${method} `),
        left: nth,
        after: afterBytes,
        times,
      };
    },
    get cuts() {
      return cuts;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}
