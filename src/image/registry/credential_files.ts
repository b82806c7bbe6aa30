/**
 * Registry credentials files (auth.json, docker's config.json): which files
 * podman searches, and what one parsed file says about a registry. The
 * lookup order is in `credentials.ts`.
 *
 * @module
 */

import { escapeControl } from "../../escape.ts";
import { PolytheneError } from "../../errors.ts";
import { PULL_FAILED_EXIT_CODE } from "./registry_error.ts";

/** Credentials for one registry. */
export type Credential =
  & {
    /** Where they came from: a file path, or `docker-credential-NAME`. */
    source: string;
  }
  & (
    | {
      /** Account name. */
      username: string;
      /** Password or personal token. */
      password: string;
      identityToken?: undefined;
    }
    | {
      /** Account name, when known. */
      username?: string;
      password?: undefined;
      /** An OAuth2 refresh token (`identitytoken`, helper `<token>`). */
      identityToken: string;
    }
  );

/** Reads the environment; undefined when unset. */
export type EnvLookup = (name: string) => string | undefined;

/** One credentials file to search. */
export interface AuthFile {
  /** Its path. */
  path: string;
  /** `containers` (auth.json) or `docker` (config.json). */
  format: "containers" | "docker";
}

/** Variables {@linkcode authFiles} reads. */
export const AUTH_ENV_VARS = [
  "REGISTRY_AUTH_FILE",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "DOCKER_CONFIG",
  "HOME",
] as const;

/** The files to search, in podman's order. Pure. */
export function authFiles(env: EnvLookup): AuthFile[] {
  const files: AuthFile[] = [];
  const home = env("HOME");
  const explicit = env("REGISTRY_AUTH_FILE");
  const runtime = env("XDG_RUNTIME_DIR");
  if (explicit) files.push({ path: explicit, format: "containers" });
  else if (runtime) {
    files.push({
      path: `${runtime}/containers/auth.json`,
      format: "containers",
    });
  }
  const configHome = env("XDG_CONFIG_HOME") ||
    (home ? `${home}/.config` : undefined);
  if (configHome) {
    files.push({
      path: `${configHome}/containers/auth.json`,
      format: "containers",
    });
  }
  const dockerConfig = env("DOCKER_CONFIG");
  if (dockerConfig) {
    files.push({ path: `${dockerConfig}/config.json`, format: "docker" });
  } else if (home) {
    files.push({ path: `${home}/.docker/config.json`, format: "docker" });
  }
  return files;
}

/** What one file says about a registry. */
export type FileLookup =
  | { kind: "helper"; helper: string; fallback?: Credential }
  | { kind: "credential"; credential: Credential };

/**
 * Looks `registry` / `repository` up in one parsed file. Pure.
 *
 * @returns undefined when the file has nothing for it.
 * @throws {PolytheneError} naming `path` when the file's entry is malformed.
 */
export function lookupInFile(
  content: unknown,
  path: string,
  registry: string,
  repository: string,
): FileLookup | undefined {
  if (typeof content !== "object" || content === null) {
    throw badFile(path, "it is not a JSON object");
  }
  const file = content as Record<string, unknown>;
  const wanted = normalizeRegistry(registry);
  const auths = objectField(file, "auths", path);
  const entry = findAuthEntry(auths, wanted, repository, path);
  const fallback = entry === undefined ? undefined : decodeEntry(entry, path);

  const helpers = objectField(file, "credHelpers", path);
  for (const [key, name] of Object.entries(helpers)) {
    if (normalizeKey(key) === wanted && typeof name === "string" && name) {
      return { kind: "helper", helper: helperName(name, path), fallback };
    }
  }
  const store = file.credsStore;
  if (typeof store === "string" && store !== "") {
    return { kind: "helper", helper: helperName(store, path), fallback };
  }
  return fallback === undefined
    ? undefined
    : { kind: "credential", credential: fallback };
}

/**
 * The key a registry is known by in files: docker.io's aliases are
 * `docker.io`, the rest is lower-cased. Pure.
 */
export function normalizeRegistry(registry: string): string {
  const host = registry.toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ||
      host === "registry.hub.docker.com"
    ? "docker.io"
    : host;
}

/**
 * A file key in canonical form: `http(s)://HOST/...` is `HOST`; docker.io's
 * aliases are `docker.io`; other keys keep their repository path. Pure.
 */
export function normalizeKey(key: string): string {
  let text = key.trim();
  const schemeless = text.replace(/^https?:\/\//i, "");
  if (schemeless !== text) text = schemeless.split("/")[0] ?? "";
  text = text.replace(/\/+$/, "");
  const slash = text.indexOf("/");
  const host = normalizeRegistry(slash < 0 ? text : text.slice(0, slash));
  const path = slash < 0 ? "" : text.slice(slash);
  // `index.docker.io/v1` written without its scheme.
  if (/^\/v[12]$/.test(path)) return host;
  return host + path;
}

function findAuthEntry(
  auths: Record<string, unknown>,
  registry: string,
  repository: string,
  path: string,
): Record<string, unknown> | undefined {
  const byKey = new Map<string, unknown>();
  for (const [key, value] of Object.entries(auths)) {
    const normal = normalizeKey(key);
    // An exact key wins over an alias that normalises to the same thing.
    if (!byKey.has(normal) || key === normal) byKey.set(normal, value);
  }
  const candidates: string[] = [];
  const parts = repository.split("/");
  for (let n = parts.length; n > 0; n--) {
    candidates.push(`${registry}/${parts.slice(0, n).join("/")}`);
  }
  candidates.push(registry);
  for (const candidate of candidates) {
    const value = byKey.get(candidate);
    if (value === undefined) continue;
    if (typeof value !== "object" || value === null) {
      throw badFile(path, `its entry for "${candidate}" is not an object`);
    }
    return value as Record<string, unknown>;
  }
  return undefined;
}

function decodeEntry(
  entry: Record<string, unknown>,
  path: string,
): Credential | undefined {
  const identityToken = entry.identitytoken;
  let username: string | undefined;
  let password: string | undefined;
  if (typeof entry.auth === "string" && entry.auth !== "") {
    let decoded: string;
    try {
      const binary = atob(entry.auth.trim());
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(binary, (c) => c.charCodeAt(0)),
      );
    } catch {
      throw badFile(path, 'an "auth" field is not base64 of USER:PASSWORD');
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw badFile(path, 'an "auth" field is not base64 of USER:PASSWORD');
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  } else if (
    typeof entry.username === "string" && typeof entry.password === "string"
  ) {
    username = entry.username;
    password = entry.password;
  }
  if (typeof identityToken === "string" && identityToken !== "") {
    return { source: path, username, identityToken };
  }
  if (username === undefined || password === undefined) return undefined;
  if (username === "" && password === "") return undefined;
  return { source: path, username, password };
}

function objectField(
  file: Record<string, unknown>,
  name: string,
  path: string,
): Record<string, unknown> {
  const value = file[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw badFile(path, `"${name}" is not an object`);
  }
  return value as Record<string, unknown>;
}

/**
 * `name`, when it can only name a `docker-credential-NAME` program on PATH
 * (no `/`, no leading `.` or `-`): the file's word becomes part of a
 * program to run.
 *
 * @throws {PolytheneError} naming the file otherwise.
 */
function helperName(name: string, path: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) return name;
  throw badFile(
    path,
    `credential helper "${escapeControl(name)}" is not a program name`,
  );
}

export function badFile(
  path: string,
  why: string,
  cause?: unknown,
): PolytheneError {
  return new PolytheneError(
    `Cannot read registry credentials from ${path}: ${why}`,
    { exitCode: PULL_FAILED_EXIT_CODE, cause },
  );
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) {
      return undefined;
    }
    throw new PolytheneError(
      `Cannot read registry credentials from ${path}: ${
        (error as Error).message
      }`,
      { exitCode: PULL_FAILED_EXIT_CODE, cause: error },
    );
  }
}
