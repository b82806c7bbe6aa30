/**
 * The `/v2/` ping that opens an endpoint: https first, then plain http
 * where it is allowed (loopback, `--tls-verify=false`, or an `insecure`
 * registry), with the registry's `certs.d` CAs and the proxy decision of
 * the transport; it records the auth challenge a 401 carries. Internal to
 * `client.ts`.
 *
 * Permissions: `--allow-net`; `--allow-read` of `certs.d`.
 *
 * @module
 */

import type { Log } from "../../log.ts";
import { formatReference } from "../reference.ts";
import type { ImageReference } from "../types.ts";
import { chooseChallenge, parseWwwAuthenticate } from "./challenge.ts";
import { isLoopbackHost, registryHostname } from "./redirect.ts";
import { RegistryError } from "./registry_error.ts";
import { createTransport, registryCaCerts } from "./transport.ts";
import type { Endpoint, Exchanger } from "./_exchange.ts";
import { statusError } from "./_http.ts";

/** What a ping needs from its client. */
export interface PingContext {
  /** The client's `tlsVerify`. */
  tlsVerify: boolean;
  /** Registries treated as with `tlsVerify: false`. */
  insecure: ReadonlySet<string>;
  /** Extra CAs for every registry. */
  caCerts: readonly string[];
  /** podman's `certs.d` directories. */
  certsDirs: readonly string[];
  /** Where the proxy variables are read. */
  proxyEnv?: (name: string) => string | undefined;
  /** Verbose log. */
  log: Log;
  /** Sends the requests. */
  exchanger: Exchanger;
}

/**
 * Pings `ref`'s registry and returns its endpoint (holding a transport the
 * caller closes).
 *
 * @throws {RegistryError}
 */
export async function pingRegistry(
  ref: ImageReference,
  context: PingContext,
): Promise<Endpoint> {
  const image = formatReference(ref);
  const host = ref.registry === "docker.io"
    ? "registry-1.docker.io"
    : ref.registry;
  const caCerts = [
    ...context.caCerts,
    ...await registryCaCerts(ref.registry, context.certsDirs),
  ];
  const tlsVerify = context.tlsVerify && !context.insecure.has(ref.registry);
  const transport = createTransport({
    tlsVerify,
    caCerts,
    proxyEnv: context.proxyEnv,
    log: (message) => context.log(`${host}: ${message}`),
  });
  const httpAllowed = !tlsVerify || isLoopbackHost(registryHostname(host));
  const schemes = httpAllowed ? ["https", "http"] : ["https"];
  let firstError: RegistryError | undefined;
  for (const scheme of schemes) {
    const endpoint: Endpoint = {
      base: new URL(`${scheme}://${host}/`),
      tlsVerify,
      transport,
    };
    const last = scheme === schemes[schemes.length - 1];
    let response: Response;
    try {
      response = await context.exchanger.exchange(
        image,
        endpoint,
        new URL("v2/", endpoint.base),
        { attempts: last ? undefined : 1 },
      );
    } catch (error) {
      if (
        !last && error instanceof RegistryError &&
        (error.kind === "network" || error.kind === "tls")
      ) {
        firstError = error;
        context.log(`${endpoint.base.origin}: ${error.detail}; trying http`);
        continue;
      }
      transport.close();
      throw firstError?.kind === "tls" ? firstError : error;
    }
    if (response.status === 200) {
      await response.body?.cancel();
      return endpoint;
    }
    if (response.status === 401) {
      const challenge = chooseChallenge(
        parseWwwAuthenticate(response.headers.get("www-authenticate") ?? ""),
      );
      await response.body?.cancel();
      if (challenge === undefined) {
        transport.close();
        throw new RegistryError(
          image,
          `${host} asks for authentication (401) with no Bearer or Basic challenge`,
          { kind: "unauthorized", status: 401 },
        );
      }
      endpoint.challenge = challenge;
      return endpoint;
    }
    transport.close();
    // A TLS server answering plain http (400): the https error says more.
    if (
      firstError !== undefined &&
      (firstError.kind === "tls" || response.status === 400)
    ) {
      await response.body?.cancel();
      throw firstError;
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryError(
        image,
        `${host} is not a container registry (/v2/ returned 404)`,
        { kind: "not-found", status: 404 },
      );
    }
    throw await statusError(image, response, `${host}/v2/`);
  }
  throw new TypeError("unreachable");
}
