/**
 * A real registry for the tests: Debian's `docker-registry` (CNCF
 * distribution 2.8) on a free 127.0.0.1 port, storing into a temporary
 * directory, optionally with TLS (a CA and a server certificate made by
 * `openssl`) and htpasswd Basic auth; and a pusher that speaks the OCI
 * distribution push API with `fetch`.
 *
 * The registry only accepts bcrypt htpasswd lines (`$2y$`/`$2b$`); `openssl
 * passwd` cannot make them, so {@linkcode bcryptHash} asks `perl`'s `crypt`,
 * which on Debian 12 is libxcrypt and does bcrypt. perl-base is Essential on
 * Debian, so no package is added for it.
 *
 * Permissions: `--allow-run=docker-registry,openssl,perl`, `--allow-net` on
 * 127.0.0.1, `--allow-read`, `--allow-write` (temp dir), `--allow-env=PATH`.
 *
 * @example
 * ```ts
 * import { pushImage, startRegistry } from "./registry.ts";
 * import { buildImage } from "./oci_image.ts";
 * await using registry = await startRegistry();
 * const image = await buildImage({ layers: [] });
 * await pushImage(registry, "test/empty", "1", image);
 * ```
 *
 * @module
 */

import type { BuiltImage, BuiltIndex, ManifestBlob } from "./oci_image.ts";
import { runTool } from "./oci_image.ts";
import { onPath } from "./fixtures.ts";

/** A user name and password. */
export interface Credentials {
  /** User name. */
  user: string;
  /** Password. */
  password: string;
}

/** Where a registry answers and how to talk to it. */
export interface RegistryEndpoint {
  /** `http://127.0.0.1:PORT` or `https://...`, no trailing slash. */
  url: string;
  /** `127.0.0.1:PORT`, as an image reference names it. */
  host: string;
  /** PEM file of the CA that signed the server's certificate (TLS only). */
  caFile?: string;
  /** Basic credentials the registry accepts (htpasswd only). */
  credentials?: Credentials;
}

/** A running `docker-registry`. */
export interface Registry extends RegistryEndpoint, AsyncDisposable {
  /** The temporary directory holding config, storage and certificates. */
  dir: string;
  /** The server's certificate and key and the CA (TLS only). */
  tls?: TlsFiles;
  /** What the registry printed so far (the last 64 KiB). */
  log(): string;
  /**
   * Kills the registry, waits for it to exit and removes `dir`. Idempotent;
   * afterwards nothing it started is running.
   */
  stop(): Promise<void>;
}

/** Options of {@linkcode startRegistry}. */
export interface RegistryOptions {
  /** Serve https with a fresh certificate for 127.0.0.1 and localhost. */
  tls?: boolean;
  /** More DNS names for the certificate (e.g. a name only a test proxy resolves). */
  tlsNames?: string[];
  /** Require Basic auth with these credentials (bcrypt htpasswd file). */
  htpasswd?: Credentials;
}

/** Certificate files made by {@linkcode makeTlsFiles}. */
export interface TlsFiles {
  /** The CA's certificate (PEM path): what clients trust. */
  caFile: string;
  /** The server certificate (PEM path), signed by the CA. */
  certFile: string;
  /** The server's private key (PEM path). */
  keyFile: string;
  /** The CA certificate's PEM text. */
  caPem: string;
  /** The server certificate's PEM text. */
  certPem: string;
  /** The server key's PEM text. */
  keyPem: string;
}

const READY_TIMEOUT_MS = 10_000;
const LOG_LIMIT = 64 * 1024;

/**
 * What {@linkcode startRegistry} with `options` needs that is not on PATH,
 * as a reason for `testNeeding` ("needs openssl"), or undefined.
 */
export function registryMissing(
  options: RegistryOptions = {},
): string | undefined {
  const programs = ["docker-registry"];
  if (options.tls) programs.push("openssl");
  if (options.htpasswd) programs.push("perl");
  const missing = programs.filter((p) => !onPath(p));
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
}

/**
 * Starts `docker-registry` on a free 127.0.0.1 port and waits until `GET
 * /v2/` answers (200, or 401 with htpasswd).
 *
 * @throws {Error} with the registry's output when it does not come up
 */
export async function startRegistry(
  options: RegistryOptions = {},
): Promise<Registry> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-registry-" });
  try {
    const tls = options.tls
      ? await makeTlsFiles(`${dir}/tls`, options.tlsNames)
      : undefined;
    let htpasswd: string | undefined;
    if (options.htpasswd) {
      htpasswd = `${dir}/htpasswd`;
      const hash = await bcryptHash(options.htpasswd.password);
      await Deno.writeTextFile(htpasswd, `${options.htpasswd.user}:${hash}\n`);
    }
    // The port is free when asked but could be taken before the registry
    // binds it; a registry that exits at once gets another port.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      try {
        return await launch({ dir, port, tls, htpasswd, options });
      } catch (error) {
        lastError = error;
        if (!(error instanceof RegistryExited)) break;
      }
    }
    throw lastError;
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

class RegistryExited extends Error {}

async function launch(
  { dir, port, tls, htpasswd, options }: {
    dir: string;
    port: number;
    tls?: TlsFiles;
    htpasswd?: string;
    options: RegistryOptions;
  },
): Promise<Registry> {
  const host = `127.0.0.1:${port}`;
  const config = {
    version: "0.1",
    log: { level: "warn", formatter: "text", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: `${dir}/storage` },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: host,
      secret: crypto.randomUUID(),
      ...(tls ? { tls: { certificate: tls.certFile, key: tls.keyFile } } : {}),
    },
    ...(htpasswd
      ? { auth: { htpasswd: { realm: "polythene-test", path: htpasswd } } }
      : {}),
  };
  // JSON is YAML: no quoting rules to get wrong.
  const configFile = `${dir}/config-${port}.yml`;
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));

  const child = new Deno.Command("docker-registry", {
    args: ["serve", configFile],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (
      const text of stream.pipeThrough(new TextDecoderStream())
    ) {
      output = (output + text).slice(-LOG_LIMIT);
    }
  };
  const draining = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      if (exited === undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 5_000);
        await status;
        clearTimeout(timer);
      }
      await draining.catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  const scheme = tls ? "https" : "http";
  const registry: Registry = {
    url: `${scheme}://${host}`,
    host,
    dir,
    ...(tls ? { tls, caFile: tls.caFile } : {}),
    ...(options.htpasswd ? { credentials: options.htpasswd } : {}),
    log: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };

  const client = tls
    ? Deno.createHttpClient({ caCerts: [tls.caPem] })
    : undefined;
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (true) {
      if (exited !== undefined) {
        await draining.catch(() => {});
        throw new RegistryExited(
          `Cannot start docker-registry on ${host}: exit ${exited.code}: ${output.trim()}`,
        );
      }
      try {
        const response = await fetch(`${registry.url}/v2/`, {
          client,
          signal: AbortSignal.timeout(1_000),
        });
        await response.body?.cancel();
        if (response.status === 200 || response.status === 401) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        throw new Error(
          `Cannot start docker-registry on ${host}: no answer within ${READY_TIMEOUT_MS} ms: ${output.trim()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    client?.close();
    // Keep the directory: the caller retries in it, or removes it.
    if (exited === undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await draining.catch(() => {});
    throw error;
  }
  client?.close();
  return registry;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Makes a CA and a server certificate it signs, for `127.0.0.1` and
 * `localhost` (subjectAltName IP and DNS), valid for a day, with EC P-256
 * keys, under `dir` (created). The server certificate is not a CA itself:
 * rustls (Deno's TLS) refuses a CA certificate used as a server's.
 */
export async function makeTlsFiles(
  dir: string,
  names: readonly string[] = [],
): Promise<TlsFiles> {
  await Deno.mkdir(dir, { recursive: true });
  const caKey = `${dir}/ca.key`;
  const caFile = `${dir}/ca.pem`;
  const keyFile = `${dir}/server.key`;
  const csr = `${dir}/server.csr`;
  const certFile = `${dir}/server.pem`;
  const ext = `${dir}/server.ext`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await runTool([
    "openssl",
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "1",
    "-subj",
    "/CN=polythene test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await runTool([
    "openssl",
    "req",
    "-new",
    ...ec,
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    csr,
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    ext,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=IP:127.0.0.1,DNS:localhost${
        names.map((name) => `,DNS:${name}`).join("")
      }`,
      "",
    ].join("\n"),
  );
  await runTool([
    "openssl",
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caFile,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "1",
    "-extfile",
    ext,
  ]);
  return {
    caFile,
    certFile,
    keyFile,
    caPem: await Deno.readTextFile(caFile),
    certPem: await Deno.readTextFile(certFile),
    keyPem: await Deno.readTextFile(keyFile),
  };
}

const BCRYPT_ALPHABET =
  "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A bcrypt hash (`$2b$`) of `password` for an htpasswd file, made by
 * `perl`'s `crypt` (libxcrypt on Debian 12). The password goes on stdin,
 * never on a command line.
 *
 * @param cost log2 rounds, 4 to 31; low by default, tests need no strength
 */
export async function bcryptHash(password: string, cost = 5): Promise<string> {
  const random = crypto.getRandomValues(new Uint8Array(22));
  // 22 characters carry 128 bits + 4 spare; the spare bits must be zero,
  // so the last character is one of ".Oeu".
  const salt = Array.from(
    random,
    (b, i) => BCRYPT_ALPHABET[i === 21 ? (b & 3) << 4 : b & 63],
  ).join("");
  const setting = `$2b$${String(cost).padStart(2, "0")}$${salt}`;
  const out = await runTool([
    "perl",
    "-e",
    "local $/; my $p = <STDIN>; my $h = crypt($p, $ARGV[0]); " +
    'defined $h && $h =~ /^\\$2b\\$/ or die "no bcrypt in crypt(3)\\n"; ' +
    "print $h",
    setting,
  ], { stdin: new TextEncoder().encode(password) });
  return new TextDecoder().decode(out);
}

// --- client side ---------------------------------------------------------

/** `Basic base64(user:password)`. */
export function basicAuth(credentials: Credentials): string {
  const bytes = new TextEncoder().encode(
    `${credentials.user}:${credentials.password}`,
  );
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * An HTTP client trusting the endpoint's CA, or undefined when it has none
 * (plain http, or the system roots). The caller closes it.
 */
export async function httpClient(
  endpoint: RegistryEndpoint,
): Promise<Deno.HttpClient | undefined> {
  if (endpoint.caFile === undefined) return undefined;
  return Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(endpoint.caFile)],
  });
}

/**
 * `fetch` of `path` (e.g. `/v2/`) on the endpoint with its CA and, unless
 * `init.headers` sets Authorization, its Basic credentials. The response
 * body is the caller's to read or cancel.
 */
export async function registryFetch(
  endpoint: RegistryEndpoint,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (endpoint.credentials && !headers.has("authorization")) {
    headers.set("authorization", basicAuth(endpoint.credentials));
  }
  const client = await httpClient(endpoint);
  try {
    const response = await fetch(new URL(path, endpoint.url), {
      ...init,
      headers,
      client,
    });
    if (client === undefined) return response;
    // Read the body before the client closes.
    const body = response.body ? await response.bytes() : null;
    return new Response(init.method === "HEAD" ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } finally {
    client?.close();
  }
}

/**
 * Pushes `image` (an image, or an index with all its children) to
 * `endpoint` as `repo:tag` with the OCI distribution push API: each blob
 * not yet present by `POST /blobs/uploads/` then `PUT ?digest=`, each child
 * manifest by digest, then the top manifest by tag. Idempotent.
 *
 * @returns the top manifest's digest, as the registry reports it
 * @throws {Error} with the method, URL, status and body of a failed request
 */
export async function pushImage(
  endpoint: RegistryEndpoint,
  repo: string,
  tag: string,
  image: BuiltImage | BuiltIndex,
): Promise<string> {
  const client = await httpClient(endpoint);
  const auth = endpoint.credentials
    ? basicAuth(endpoint.credentials)
    : undefined;
  const call = async (
    method: string,
    url: string | URL,
    expected: number[],
    init: { body?: Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (auth) headers.set("authorization", auth);
    const response = await fetch(new URL(url, endpoint.url), {
      method,
      headers,
      body: init.body as Uint8Array<ArrayBuffer> | undefined,
      client,
    });
    const text = method === "HEAD" ? "" : await response.text();
    if (!expected.includes(response.status)) {
      throw new Error(
        `Cannot push "${repo}:${tag}": ${method} ${url}: ${response.status}: ${text.trim()}`,
      );
    }
    return response;
  };
  try {
    for (const [digest, bytes] of image.blobs) {
      const blobPath = `/v2/${repo}/blobs/${digest}`;
      if ((await call("HEAD", blobPath, [200, 404])).status === 200) continue;
      const started = await call("POST", `/v2/${repo}/blobs/uploads/`, [202]);
      const location = started.headers.get("location");
      if (location === null) {
        throw new Error(`Cannot push "${repo}:${tag}": no upload Location`);
      }
      const upload = new URL(location, endpoint.url);
      upload.searchParams.set("digest", digest);
      await call("PUT", upload, [201], {
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
      });
    }
    const putManifest = (manifest: ManifestBlob, ref: string) =>
      call("PUT", `/v2/${repo}/manifests/${ref}`, [201], {
        body: manifest.bytes,
        headers: { "content-type": manifest.mediaType },
      });
    if (image.kind === "index") {
      for (const child of image.children) {
        await putManifest(child, child.digest);
      }
    }
    const put = await putManifest(image, tag);
    const digest = put.headers.get("docker-content-digest") ?? image.digest;
    if (digest !== image.digest) {
      throw new Error(
        `Cannot push "${repo}:${tag}": registry says ${digest}, expected ${image.digest}`,
      );
    }
    return digest;
  } finally {
    client?.close();
  }
}
