/**
 * Defaults the library takes from the environment, and conversions of its
 * options to what the commands take.
 *
 * @module
 */

import { type BackendName, isBackendName } from "../backends/names.ts";
import { UsageError } from "../errors.ts";
import {
  type BindRequest,
  parseBind,
  parseUser,
  type UserIds,
} from "../exec/options.ts";
import { escapeControlKeepLines } from "../escape.ts";
import type { PullRequest } from "../image/pull.ts";
import { createLog, isTrue } from "../log.ts";
import { DEFAULT_STORE } from "../store/store.ts";

import type {
  Bind,
  EnvLookup,
  ExecOptions,
  PullOptions,
  StoreOptions,
} from "./options.ts";

/** The PATH used when the host has none. */
export const FALLBACK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/** The process environment, as an {@linkcode EnvLookup}. */
export function hostEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

export function floorFrom(env: EnvLookup): BackendName | undefined {
  const named = env("POLYTHENE_ISOLATION_FLOOR");
  if (named === undefined || named === "") return undefined;
  if (!isBackendName(named)) {
    throw new UsageError(
      `Invalid POLYTHENE_ISOLATION_FLOOR "${named}": expected bubblewrap, proot or chroot`,
    );
  }
  return named;
}

export function storeFrom(env: EnvLookup): string {
  const value = env("POLYTHENE_STORE");
  return value === undefined || value === "" ? DEFAULT_STORE : value;
}

export function storeOf(options: StoreOptions): string {
  return options.store ?? storeFrom(hostEnv);
}

export function logOf(options: StoreOptions): (message: string) => void {
  if (options.log !== undefined) return options.log;
  return createLog(isTrue(hostEnv("POLYTHENE_VERBOSE")));
}

/** The `warn` option, or a warning on stderr with control characters escaped. */
export function warnOf(
  options: { warn?: (message: string) => void },
): (message: string) => void {
  return options.warn ??
    ((message) =>
      console.error(
        `polythene: warning: ${escapeControlKeepLines(message)}`,
      ));
}

/**
 * What `pull` and `run` both ask the puller for (`pull` adds its timeout and
 * `reuse`).
 */
export function pullRequestOf(
  image: string,
  options: Omit<PullOptions, "timeoutSeconds" | "reuse">,
): PullRequest {
  return {
    store: storeOf(options),
    image,
    platform: options.platform,
    puller: options.puller ?? "native",
    tlsVerify: options.tlsVerify ?? true,
    hostEnv,
    log: logOf(options),
    warn: warnOf(options),
    onLayer: options.onLayer,
    progress: options.progress,
    limits: options.limits,
  };
}

export function bindOf(bind: Bind | string): BindRequest {
  if (typeof bind === "string") return parseBind(bind, Deno.cwd());
  const readOnly = bind.readOnly === true;
  return parseBind(
    `${bind.source}:${bind.target}${readOnly ? ":ro" : ""}`,
    Deno.cwd(),
  );
}

export function userOf(
  user: ExecOptions["user"],
): UserIds | undefined {
  if (user === undefined) return undefined;
  if (typeof user === "number") return parseUser(String(user));
  if (typeof user === "string") return parseUser(user);
  return parseUser(`${user.uid}:${user.gid}`);
}
