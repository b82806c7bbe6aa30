/**
 * Authentication negotiation of the registry client: from an endpoint's
 * challenge, a Bearer token (anonymous, Basic credentials, or an identity
 * token's refresh grant) or Basic credentials, cached per registry and
 * repository. Credentials and tokens never appear in messages. Internal to
 * `client.ts`.
 *
 * Permissions: `--allow-net`; what the {@linkcode CredentialSource} needs.
 *
 * @module
 */

import { formatReference } from "../reference.ts";
import type { ImageReference } from "../types.ts";
import {
  basicAuthorization,
  type Challenge,
  pullScope,
  tokenUrl,
} from "./challenge.ts";
import type { Credential } from "./credentials.ts";
import { oneLine, RegistryError } from "./registry_error.ts";
import type { Endpoint, Exchanger } from "./_exchange.ts";
import {
  authKey,
  bearerFromTokenAnswer,
  loginHint,
  statusError,
  tokenAnswerTooLarge,
} from "./_http.ts";

/** Looks credentials up for a registry and repository. */
export type CredentialSource = (
  registry: string,
  repository: string,
) => Promise<Credential | undefined>;

/** The largest token response body read. */
const MAX_SMALL_BODY = 1024 * 1024;

/** Authorizations for the repositories of one client. */
export class Authenticator {
  readonly #exchanger: Exchanger;
  readonly #credentials: CredentialSource;
  readonly #authorizations = new Map<string, Promise<string | undefined>>();
  readonly #credentialCache = new Map<
    string,
    Promise<Credential | undefined>
  >();

  /** Makes an authenticator that looks credentials up in `credentials`. */
  constructor(exchanger: Exchanger, credentials: CredentialSource) {
    this.#exchanger = exchanger;
    this.#credentials = credentials;
  }

  /** Drops the cached authorization of `ref`'s repository (after a 401). */
  forget(ref: ImageReference): void {
    this.#authorizations.delete(authKey(ref));
  }

  /** The credential already looked up for `ref`, if any was. */
  lookedUp(ref: ImageReference): Promise<Credential | undefined> | undefined {
    return this.#credentialCache.get(authKey(ref));
  }

  /** The `Authorization` for a repository, from the endpoint's challenge. */
  authorization(
    ref: ImageReference,
    endpoint: Endpoint,
  ): Promise<string | undefined> {
    const challenge = endpoint.challenge;
    if (challenge === undefined) return Promise.resolve(undefined);
    const key = authKey(ref);
    let authorization = this.#authorizations.get(key);
    if (authorization === undefined) {
      authorization = challenge.scheme === "bearer"
        ? this.#bearer(ref, endpoint, challenge)
        : this.#basic(ref);
      authorization.catch(() => this.#authorizations.delete(key));
      this.#authorizations.set(key, authorization);
    }
    return authorization;
  }

  async #basic(ref: ImageReference): Promise<string> {
    const image = formatReference(ref);
    const credential = await this.#credential(ref);
    if (credential === undefined) {
      throw new RegistryError(
        image,
        `${ref.registry} requires a login and no credentials were found for it`,
        { kind: "unauthorized", hint: loginHint(ref.registry) },
      );
    }
    if (credential.identityToken !== undefined) {
      throw new RegistryError(
        image,
        `${ref.registry} asks for Basic auth, but the credentials from ${credential.source} are an identity token`,
        { kind: "unauthorized", hint: loginHint(ref.registry) },
      );
    }
    return basicAuthorization(credential.username, credential.password);
  }

  async #bearer(
    ref: ImageReference,
    endpoint: Endpoint,
    challenge: Challenge,
  ): Promise<string> {
    const image = formatReference(ref);
    let url: URL;
    try {
      url = tokenUrl(challenge, ref.repository);
    } catch {
      throw new RegistryError(
        image,
        `${ref.registry}'s token realm is not a URL: "${
          oneLine(challenge.params.realm ?? "", 100)
        }"`,
        { kind: "protocol" },
      );
    }
    const credential = await this.#credential(ref);
    let response: Response;
    if (credential?.identityToken !== undefined) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.identityToken,
        client_id: "polythene",
        scope: pullScope(ref.repository),
      });
      if (challenge.params.service) {
        form.set("service", challenge.params.service);
      }
      const realm = new URL(challenge.params.realm ?? "");
      response = await this.#exchanger.exchange(image, endpoint, realm, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    } else {
      response = await this.#exchanger.exchange(image, endpoint, url, {
        authorization: credential === undefined
          ? undefined
          : basicAuthorization(credential.username, credential.password),
      });
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(
        image,
        credential === undefined
          ? `${ref.registry} requires a login (token service: ${response.status})`
          : `the token service refused the credentials from ${credential.source} (${response.status})`,
        {
          kind: "unauthorized",
          status: response.status,
          hint: loginHint(ref.registry),
        },
      );
    }
    if (response.status !== 200) {
      throw await statusError(image, response, "token service");
    }
    const bytes = await this.#exchanger.readAll(
      image,
      response,
      MAX_SMALL_BODY,
      () => tokenAnswerTooLarge(image),
    );
    return bearerFromTokenAnswer(image, bytes);
  }

  #credential(ref: ImageReference): Promise<Credential | undefined> {
    const key = authKey(ref);
    let credential = this.#credentialCache.get(key);
    if (credential === undefined) {
      credential = this.#credentials(ref.registry, ref.repository);
      this.#credentialCache.set(key, credential);
    }
    return credential;
  }
}
