/**
 * The pure part of `exec`'s options: `--env`, `--env-file`, `--bind`,
 * `--user`, `--workdir`, and the order in which the command's environment is
 * built. Nothing here touches the file system or the process environment;
 * host values come in through lookups.
 *
 * @example
 * ```ts
 * import { commandEnv, parseBind, parseUser } from "./options.ts";
 * parseBind("/src:/workspace:ro", "/"); // { source: "/src", target: "/workspace", readOnly: true }
 * parseUser("1000:100"); // { uid: 1000, gid: 100 }
 * commandEnv({ imageEnv: ["A=1"], uid: 0, term: "xterm", fileEnv: [], cliEnv: [["A", "2"]] });
 * ```
 *
 * @module
 */

import { DEFAULT_PATH } from "../backends/backend.ts";
import { UsageError } from "../errors.ts";

/** A host path made visible inside the sandbox. */
export interface BindRequest {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the rootfs, normalised. */
  target: string;
  /** True for `:ro`. */
  readOnly: boolean;
}

/** uid and gid inside the sandbox. */
export interface UserIds {
  /** uid inside. */
  uid: number;
  /** gid inside. */
  gid: number;
}

/** The largest uid or gid accepted (2^32 - 2; -1 is "no id"). */
export const MAX_ID = 4294967294;

/** One `KEY=VALUE` pair, in order. */
export type EnvPair = readonly [string, string];

/** True when `key` may name an environment variable. Pure. */
export function isEnvKey(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}

/**
 * Parses one `--env` value: `KEY=VALUE`, or `KEY` alone for the host's
 * value (skipped when the host has none, as Docker does).
 *
 * @throws {UsageError} on an empty key or a NUL byte.
 */
export function parseEnvArg(
  arg: string,
  hostEnv: (name: string) => string | undefined,
  source = "--env",
): EnvPair | undefined {
  const eq = arg.indexOf("=");
  const key = eq === -1 ? arg : arg.slice(0, eq);
  if (!isEnvKey(key) || arg.includes("\0")) {
    throw new UsageError(
      `Invalid ${source} "${arg}": expected KEY=VALUE or KEY, where KEY is letters, digits and _ (not starting with a digit)`,
      "exec",
    );
  }
  if (eq !== -1) return [key, arg.slice(eq + 1)];
  const value = hostEnv(key);
  return value === undefined ? undefined : [key, value];
}

/**
 * Parses an `--env-file`: one `KEY=VALUE` per line, taken literally (no
 * quotes, no expansion); blank lines and lines starting with `#` are
 * skipped; a line with `KEY` alone passes the host's value.
 *
 * @throws {UsageError} naming the file and line of a malformed entry.
 */
export function parseEnvFile(
  text: string,
  file: string,
  hostEnv: (name: string) => string | undefined,
): EnvPair[] {
  const pairs: EnvPair[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const pair = parseEnvArg(line, hostEnv, `line ${i + 1} of "${file}":`);
    if (pair !== undefined) pairs.push(pair);
  });
  return pairs;
}

/** What the command's environment is built from. */
export interface EnvSources {
  /** The image config's `Env` (`KEY=VALUE` strings). */
  imageEnv?: readonly string[];
  /** uid inside: `HOME` is `/root` for 0, else `/`. */
  uid: number;
  /** The host's `TERM`, when set. */
  term?: string;
  /** From `--env-file`, in file order. */
  fileEnv: readonly EnvPair[];
  /** From `--env`, in command-line order. */
  cliEnv: readonly EnvPair[];
}

/**
 * The command's whole environment: the image's `Env` (with the standard
 * `PATH` when it sets none), then `HOME` and `TERM`, then `--env-file`,
 * then `--env`; a later source wins. Nothing else comes from the host. Pure.
 */
export function commandEnv(sources: EnvSources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of sources.imageEnv ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0 && !entry.includes("\0")) {
      env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  if (env.PATH === undefined) env.PATH = DEFAULT_PATH;
  env.HOME = sources.uid === 0 ? "/root" : "/";
  if (sources.term !== undefined && sources.term !== "") {
    env.TERM = sources.term;
  }
  for (const [key, value] of [...sources.fileEnv, ...sources.cliEnv]) {
    env[key] = value;
  }
  return env;
}

/** Normalises an absolute path: no `.`, `..` above `/`, or doubled `/`. */
export function normalizeAbsolute(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Parses `--bind SRC:DST[:ro|:rw]`. A relative SRC is taken from `cwd` (the
 * host's working directory); DST must be absolute and not `/`.
 *
 * @throws {UsageError} on a malformed value.
 */
export function parseBind(arg: string, cwd: string): BindRequest {
  const bad = (why: string) =>
    new UsageError(`Invalid --bind "${arg}": ${why}`, "exec");
  const parts = arg.split(":");
  let readOnly = false;
  if (parts.length === 3 && (parts[2] === "ro" || parts[2] === "rw")) {
    readOnly = parts.pop() === "ro";
  }
  if (parts.length !== 2) {
    throw bad("expected SRC:DST, SRC:DST:ro or SRC:DST:rw");
  }
  const [src, dst] = parts as [string, string];
  if (src === "" || dst === "") throw bad("SRC and DST cannot be empty");
  if (arg.includes("\0")) throw bad("NUL byte");
  if (!dst.startsWith("/")) throw bad("DST must be an absolute path");
  const target = normalizeAbsolute(dst);
  if (target === "/") throw bad("DST cannot be /");
  const source = normalizeAbsolute(src.startsWith("/") ? src : `${cwd}/${src}`);
  return { source, target, readOnly };
}

/**
 * Parses `--user root|UID[:GID]`. GID defaults to UID (0 for `root`).
 *
 * @throws {UsageError} on a name other than `root`, or an id out of range.
 */
export function parseUser(arg: string): UserIds {
  if (arg === "root") return { uid: 0, gid: 0 };
  const [uid, gid, extra] = arg.split(":");
  const id = (text: string | undefined): number => {
    if (text !== undefined && /^\d{1,10}$/.test(text) && +text <= MAX_ID) {
      return Number(text);
    }
    const range = text !== undefined && /^[-+]?\d+$/.test(text)
      ? `${text} is out of range: `
      : "";
    throw new UsageError(
      `Invalid --user "${arg}": ${range}expected root or UID[:GID], ids from 0 to ${MAX_ID}`,
      "exec",
    );
  };
  if (extra !== undefined) id(undefined);
  const u = id(uid);
  return { uid: u, gid: gid === undefined ? u : id(gid) };
}

/**
 * Checks `--workdir`: absolute, normalised.
 *
 * @throws {UsageError} when relative.
 */
export function parseWorkdir(arg: string): string {
  if (!arg.startsWith("/") || arg.includes("\0")) {
    throw new UsageError(
      `Invalid --workdir "${arg}": expected an absolute path inside the rootfs`,
      "exec",
    );
  }
  return normalizeAbsolute(arg);
}
