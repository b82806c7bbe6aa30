/**
 * Authorization for a push: a Bearer token with push scopes from the
 * registry's token service (with Basic credentials or an identity token),
 * or Basic credentials themselves. The credentials come from the same
 * files and helpers as pull's; they never reach a log or a message.
 *
 * @module
 */

import type { ImageReference } from "../types.ts";
import { basicAuthorization, type Challenge } from "./challenge.ts";
import type { Credential } from "./credentials.ts";
import { oneLine, RegistryError } from "./registry_error.ts";
import {
  bearerFromTokenAnswer,
  loginHint,
  statusError,
  tokenAnswerTooLarge,
} from "./_http.ts";
import { readLimited } from "./verify.ts";

/** The most bytes of a token service's answer read (as pull's client). */
const MAX_TOKEN_ANSWER = 1024 * 1024;

/** What the authorization functions need from the connection. */
export interface AuthContext {
  /** The destination as text, for messages. */
  image: string;
  /** The destination. */
  ref: ImageReference;
  /** Token scopes to ask for (see `pushScopes`). */
  scopes: readonly string[];
  /** The credentials for the destination, looked up once. */
  credential: () => Promise<Credential | undefined>;
  /** Sends one request (no authorization retry) to the token service. */
  exchange: (
    url: URL,
    init: {
      method: "GET" | "POST";
      headers?: Record<string, string>;
      body?: Uint8Array<ArrayBuffer>;
    },
    authorization: string | undefined,
  ) => Promise<Response>;
}

/**
 * `Basic ...` from the destination's credentials.
 *
 * @throws {RegistryError} when there are none, or only an identity token
 */
export async function basicForPush(ctx: AuthContext): Promise<string> {
  const credential = await ctx.credential();
  if (credential === undefined || credential.identityToken !== undefined) {
    throw new RegistryError(
      ctx.image,
      credential === undefined
        ? `${ctx.ref.registry} requires a login and no credentials were found for it`
        : `${ctx.ref.registry} asks for Basic auth, but the credentials from ${credential.source} are an identity token`,
      { kind: "unauthorized", hint: loginHint(ctx.ref.registry) },
    );
  }
  return basicAuthorization(credential.username, credential.password);
}

/**
 * A `Bearer ...` authorization from the challenge's token service, for the
 * context's scopes plus the one the challenge names.
 *
 * @throws {RegistryError} when the service refuses or answers without a token
 */
export async function bearerForPush(
  ctx: AuthContext,
  challenge: Challenge,
): Promise<string> {
  let realm: URL;
  try {
    realm = new URL(challenge.params.realm ?? "");
  } catch {
    throw new RegistryError(
      ctx.image,
      `${ctx.ref.registry}'s token realm is not a URL: "${
        oneLine(challenge.params.realm ?? "", 100)
      }"`,
      { kind: "protocol" },
    );
  }
  const scopes = [...ctx.scopes];
  const asked = challenge.params.scope;
  if (asked && !scopes.includes(asked)) scopes.push(asked);
  const credential = await ctx.credential();
  let response: Response;
  if (credential?.identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credential.identityToken,
      client_id: "polythene",
      scope: scopes.join(" "),
    });
    if (challenge.params.service) {
      form.set("service", challenge.params.service);
    }
    response = await ctx.exchange(realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new TextEncoder().encode(form.toString()),
    }, undefined);
  } else {
    const url = new URL(realm);
    if (challenge.params.service !== undefined) {
      url.searchParams.set("service", challenge.params.service);
    }
    for (const scope of scopes) url.searchParams.append("scope", scope);
    response = await ctx.exchange(
      url,
      { method: "GET" },
      credential === undefined
        ? undefined
        : basicAuthorization(credential.username, credential.password),
    );
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new RegistryError(
      ctx.image,
      credential === undefined
        ? `${ctx.ref.registry} requires a login to push (token service: ${response.status})`
        : `the token service refused the credentials from ${credential.source} (${response.status})`,
      {
        kind: "unauthorized",
        status: response.status,
        hint: loginHint(ctx.ref.registry),
      },
    );
  }
  if (response.status !== 200) {
    throw await statusError(ctx.image, response, "token service");
  }
  // Read no more than a token answer needs: a hostile token service could
  // stream without end.
  const bytes = response.body === null ? new Uint8Array() : await readLimited(
    response.body,
    MAX_TOKEN_ANSWER,
    () => tokenAnswerTooLarge(ctx.image),
  );
  return bearerFromTokenAnswer(ctx.image, bytes);
}
