/**
 * The one error type of the registry client. It names the image, says what
 * went wrong in one line, and knows whether trying again could help.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";

/** What kind of failure a {@linkcode RegistryError} is. */
export type RegistryErrorKind =
  /** The connection failed (refused, reset, DNS, idle timeout). */
  | "network"
  /** TLS: the certificate could not be verified. */
  | "tls"
  /** 401, or the token endpoint refused. */
  | "unauthorized"
  /** 403. */
  | "denied"
  /** 404, or the registry's `*_UNKNOWN` codes. */
  | "not-found"
  /** 429 after the last retry. */
  | "rate-limited"
  /** 5xx after the last retry. */
  | "server"
  /** Any other unexpected status. */
  | "http"
  /** A malformed response: bad JSON, headers, Content-Range. */
  | "protocol"
  /** Content does not match its digest. */
  | "digest"
  /** Content does not match its size. */
  | "size"
  /** A manifest or config over the limit. */
  | "too-large"
  /** Schema 1, unknown media types, encrypted layers, non-images. */
  | "unsupported"
  /** No image in the index for the wanted platform. */
  | "platform"
  /** A redirect that is refused (https→http, too many, not http). */
  | "redirect"
  /** Plain http to a host where it is not allowed. */
  | "insecure";

/** Options of {@linkcode RegistryError}. */
export interface RegistryErrorOptions {
  /** What kind of failure. */
  kind: RegistryErrorKind;
  /** The HTTP status, when there was one. */
  status?: number;
  /** Whether the same request could succeed if tried again. */
  retryable?: boolean;
  /** One line telling the user what to do. */
  hint?: string;
  /** The lower-level error. */
  cause?: unknown;
}

/** Exit code of a pull that failed for a reason other than usage. */
export const PULL_FAILED_EXIT_CODE = 1;

/**
 * A registry or verification failure while pulling `image`:
 * `Cannot pull "IMAGE": DETAIL`. Never contains a credential or token.
 */
export class RegistryError extends PolytheneError {
  /** The image as named in the message. */
  readonly image: string;
  /** What kind of failure. */
  readonly kind: RegistryErrorKind;
  /** The HTTP status, when there was one. */
  readonly status?: number;
  /** Whether the same request could succeed if tried again. */
  readonly retryable: boolean;
  /** The message without the `Cannot pull "IMAGE": ` prefix. */
  readonly detail: string;

  constructor(image: string, detail: string, options: RegistryErrorOptions) {
    super(`Cannot pull "${image}": ${oneLine(detail)}`, {
      exitCode: PULL_FAILED_EXIT_CODE,
      hint: options.hint,
      cause: options.cause,
    });
    this.name = "RegistryError";
    this.image = image;
    this.detail = oneLine(detail);
    this.kind = options.kind;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

/** Collapses white space and caps the length, for text from servers. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
