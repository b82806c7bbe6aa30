/**
 * HTTP details of the registry client: error statuses turned into
 * {@linkcode RegistryError}s, connection failures described in one line,
 * `Content-Range` and `Content-Length`, reads with an idle timeout.
 *
 * @module
 */

import type { ImageReference } from "../types.ts";
import { tokenFromResponse } from "./challenge.ts";
import {
  oneLine,
  RegistryError,
  type RegistryErrorKind,
} from "./registry_error.ts";
import { isRetryableStatus } from "./retry.ts";
import type { TransportRequest } from "./transport.ts";
import { readLimited } from "./verify.ts";

/** No bytes (or headers) came within the idle timeout. */
export class IdleTimeout extends Error {
  constructor(ms: number) {
    super(
      `nothing received for ${
        ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`
      }`,
    );
    this.name = "IdleTimeout";
  }
}

/** Turns an unexpected status into an error, with the registry's message. */
export async function statusError(
  image: string,
  response: Response,
  context: string | undefined,
): Promise<RegistryError> {
  const status = response.status;
  let message: string | undefined;
  try {
    if (response.body !== null) {
      const bytes = await readLimited(
        response.body,
        64 * 1024,
        () => new Error("too large"),
      );
      const body = JSON.parse(new TextDecoder().decode(bytes));
      const first = body?.errors?.[0];
      if (typeof first?.message === "string" && first.message !== "") {
        message = first.message;
      } else if (typeof first?.code === "string") {
        message = first.code.toLowerCase().replaceAll("_", " ");
      }
    }
  } catch {
    // Not the registry's JSON: the status says enough.
  }
  let kind: RegistryErrorKind = "http";
  let hint: string | undefined;
  if (status === 401) {
    kind = "unauthorized";
    message ??= "authentication required";
    hint = "Check the credentials for this registry (podman login)";
  } else if (status === 403) {
    kind = "denied";
    message ??= "access denied";
  } else if (status === 404) {
    kind = "not-found";
    message ??= "not found";
  } else if (status === 429) {
    kind = "rate-limited";
    message ??= "too many requests";
  } else if (status >= 500) {
    kind = "server";
    message ??= "registry error";
  } else {
    message ??= response.statusText || "unexpected response";
  }
  const text = oneLine(message, 200);
  return new RegistryError(
    image,
    context === undefined
      ? `${text} (${status})`
      : `${context}: ${text} (${status})`,
    { kind, status, retryable: isRetryableStatus(status), hint },
  );
}

/** A one-line reason for a connection failure, and whether it is TLS. */
export function describeNetworkError(
  error: unknown,
): { text: string; tls: boolean } {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Error) {
      messages.push(current.message);
      current = current.cause;
    } else {
      messages.push(String(current));
      break;
    }
  }
  const all = messages.join(": ");
  const tls =
    /certificate|UnknownIssuer|CaUsedAsEndEntity|self[- ]signed|NotValidForName|unable to verify/i
      .test(all);
  const innermost = messages.filter((m) => m !== "" && m !== "fetch failed")
    .pop() ?? "connection failed";
  const text = innermost
    .replace(/error sending request for url \([^)]*\):\s*/g, "")
    .replace(/client error \(\w+\):\s*/g, "");
  return { text: oneLine(text, 200), tls };
}

export function parseContentRange(
  value: string | null,
): { start: number; end: number; total?: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? "");
  if (!match) return undefined;
  const total = match[3] === "*" ? undefined : Number(match[3]);
  return { start: Number(match[1]), end: Number(match[2]), total };
}

export function contentLength(response: Response): number | undefined {
  const value = response.headers.get("content-length");
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

export function sizeMismatch(
  image: string,
  label: string,
  actual: number,
  expected: number,
): RegistryError {
  return new RegistryError(
    image,
    `${label} is ${actual} bytes at the registry, its descriptor states ${expected}`,
    { kind: "size" },
  );
}

export async function readWithTimeout(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(new IdleTimeout(ms)), ms);
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(id);
  }
}

/**
 * `send(request)`, abandoned with an {@linkcode IdleTimeout} when no headers
 * come within `ms`.
 */
export async function sendWithIdleTimeout(
  send: (request: TransportRequest) => Promise<Response>,
  request: TransportRequest,
  ms: number,
): Promise<Response> {
  const timer = new AbortController();
  const id = setTimeout(() => timer.abort(new IdleTimeout(ms)), ms);
  try {
    return await send({
      ...request,
      signal: combine(request.signal, timer.signal),
    });
  } catch (error) {
    throw timer.signal.aborted ? timer.signal.reason : error;
  } finally {
    clearTimeout(id);
  }
}

/** A token service's answer over the size it may have. */
export function tokenAnswerTooLarge(image: string): RegistryError {
  return new RegistryError(image, "the token service's answer is too large", {
    kind: "protocol",
  });
}

/**
 * `Bearer TOKEN` from a token service's JSON answer.
 *
 * @throws {RegistryError} (protocol) when it holds no token.
 */
export function bearerFromTokenAnswer(
  image: string,
  bytes: Uint8Array,
): string {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    body = undefined;
  }
  const token = tokenFromResponse(body);
  if (token === undefined) {
    throw new RegistryError(
      image,
      "the token service's answer has no token",
      { kind: "protocol" },
    );
  }
  return `Bearer ${token}`;
}

export function combine(
  ...signals: (AbortSignal | undefined)[]
): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

export function authKey(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The URL without its query and fragment (signed URLs carry secrets). */
export function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export function loginHint(registry: string): string {
  return `Log in with "podman login ${registry}", or set REGISTRY_AUTH_FILE`;
}

export function tlsHint(host: string): string {
  return `Put the registry's CA in /etc/containers/certs.d/${host}/ca.crt, or use --tls-verify=false`;
}
