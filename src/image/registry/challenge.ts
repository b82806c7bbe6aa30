/**
 * `WWW-Authenticate` challenges (RFC 7235) and the token request they lead
 * to (the distribution spec's token flow). Pure.
 *
 * @module
 */

/** One challenge: a scheme and its parameters. */
export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameters, names lower-cased: `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` value, which may hold several challenges
 * (`Basic realm="x", Bearer realm="y",service="z"`). Quoted strings may
 * contain commas and `\"`. Unreadable parts are skipped.
 */
export function parseWwwAuthenticate(value: string): Challenge[] {
  const challenges: Challenge[] = [];
  const tokens = tokenize(value);
  let current: Challenge | undefined;
  let afterScheme = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const justAfterScheme = afterScheme;
    afterScheme = false;
    if (token === undefined || token.kind !== "word") continue;
    const next = tokens[i + 1];
    if (next?.kind === "equals") {
      const valueToken = tokens[i + 2];
      if (
        current !== undefined && valueToken !== undefined &&
        (valueToken.kind === "word" || valueToken.kind === "quoted")
      ) {
        current.params[token.text.toLowerCase()] = valueToken.text;
        i += 2;
      } else {
        i += 1;
      }
      continue;
    }
    // `Negotiate abc==`: a token68 right after the scheme belongs to it.
    if (justAfterScheme) continue;
    current = { scheme: token.text.toLowerCase(), params: {} };
    challenges.push(current);
    afterScheme = true;
  }
  return challenges;
}

/** The challenge to answer: Bearer first, then Basic; others are ignored. */
export function chooseChallenge(
  challenges: readonly Challenge[],
): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer" && c.params.realm) ??
    challenges.find((c) => c.scheme === "basic");
}

/** The pull scope of a repository: `repository:NAME:pull`. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/**
 * The URL of a Bearer token request: the realm with `service` and `scope`
 * (the repository's pull scope, plus the challenge's own when it differs).
 *
 * @throws {TypeError} when the realm is not an absolute URL.
 */
export function tokenUrl(challenge: Challenge, repository: string): URL {
  const realm = challenge.params.realm ?? "";
  const url = new URL(realm);
  if (challenge.params.service !== undefined) {
    url.searchParams.set("service", challenge.params.service);
  }
  const scopes = [pullScope(repository)];
  const asked = challenge.params.scope;
  if (asked !== undefined && asked !== "" && !scopes.includes(asked)) {
    scopes.push(asked);
  }
  for (const scope of scopes) url.searchParams.append("scope", scope);
  return url;
}

/**
 * The token from a token endpoint's JSON body (`token`, or OAuth2's
 * `access_token`), or undefined.
 */
export function tokenFromResponse(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const field of ["token", "access_token"]) {
    const value = record[field];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

type Token =
  | { kind: "word"; text: string }
  | { kind: "quoted"; text: string }
  | { kind: "equals" }
  | { kind: "comma" };

function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const char = value[i] ?? "";
    if (/\s/.test(char)) {
      i++;
    } else if (char === ",") {
      tokens.push({ kind: "comma" });
      i++;
    } else if (char === "=") {
      tokens.push({ kind: "equals" });
      i++;
    } else if (char === '"') {
      let text = "";
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === "\\" && i + 1 < value.length) i++;
        text += value[i];
        i++;
      }
      i++;
      tokens.push({ kind: "quoted", text });
    } else {
      let text = "";
      while (i < value.length && !/[\s,="]/.test(value[i] ?? "")) {
        text += value[i];
        i++;
      }
      // token68 (e.g. `Negotiate abc==`) ends in "=": keep them in the word.
      let end = i;
      while (value[end] === "=") end++;
      if (end > i && /^[\s,]?$/.test(value[end] ?? "")) {
        text += value.slice(i, end);
        i = end;
      }
      tokens.push({ kind: "word", text });
    }
  }
  return tokens;
}
