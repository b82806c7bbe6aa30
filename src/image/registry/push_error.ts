/**
 * The error of a failed push: `Cannot push "DEST": DETAIL`, exit 1, never
 * with a credential or token in it.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import {
  oneLine,
  RegistryError,
  type RegistryErrorKind,
} from "./registry_error.ts";

/** Exit code of a push that failed for a reason other than usage. */
export const PUSH_FAILED_EXIT_CODE = 1;

/** A registry, transport or local-layout failure while pushing `image`. */
export class PushError extends PolytheneError {
  /** The destination as named in the message. */
  readonly image: string;
  /** What kind of failure, as for pull's {@linkcode RegistryError}. */
  readonly kind: RegistryErrorKind | "layout";
  /** The HTTP status, when there was one. */
  readonly status?: number;
  /** The message without the `Cannot push "IMAGE": ` prefix. */
  readonly detail: string;

  constructor(
    image: string,
    detail: string,
    options: {
      kind: RegistryErrorKind | "layout";
      status?: number;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(`Cannot push "${image}": ${oneLine(detail)}`, {
      exitCode: PUSH_FAILED_EXIT_CODE,
      hint: options.hint,
      cause: options.cause,
    });
    this.name = "PushError";
    this.image = image;
    this.detail = oneLine(detail);
    this.kind = options.kind;
    this.status = options.status;
  }
}

/**
 * The error as a {@linkcode PushError} for `image`: a {@linkcode
 * RegistryError} (which says "Cannot pull") keeps its detail, kind, status
 * and hint; anything else is returned unchanged.
 */
export function asPushError(error: unknown, image: string): unknown {
  if (error instanceof PushError || !(error instanceof RegistryError)) {
    return error;
  }
  return new PushError(image, error.detail, {
    kind: error.kind,
    status: error.status,
    hint: error.hint,
    cause: error,
  });
}
