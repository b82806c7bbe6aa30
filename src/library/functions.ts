/**
 * The library's functions: one per command, over the same code as the CLI.
 * `pull` and `exec` are here; the store functions are in
 * `store_functions.ts`, `commit` and `exportImage` in `image_functions.ts`,
 * `push` in `push.ts` and the environment defaults in `defaults.ts`, all
 * re-exported here.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { execEphemeral } from "../exec/ephemeral.ts";
import { execInEntry, type ExecRequest } from "../exec/exec.ts";
import { parseWorkdir } from "../exec/options.ts";
import type { PullRequest } from "../image/pull.ts";

import type {
  CapturedExecResult,
  ExecOptions,
  ExecResult,
  PullOptions,
} from "./options.ts";
import {
  bindOf,
  floorFrom,
  hostEnv,
  logOf,
  pullRequestOf,
  storeOf,
  userOf,
} from "./_env.ts";
import { defaultIdMap } from "./defaults.ts";

export { defaultIdMap, defaultIsolation } from "./defaults.ts";
export { commit, exportImage } from "./image_functions.ts";
export { push } from "./push.ts";
export { clone, doctor, inspect, list, prune, rm } from "./store_functions.ts";

/**
 * Pulls an image into a new store entry, as `polythene pull IMAGE`.
 *
 * @example
 * ```ts
 * import { pull } from "../mod.ts";
 *
 * export const stage = (layout: string) =>
 *   pull(`oci:${layout}:latest`, { store: "/tmp/polythene-tests" });
 * ```
 *
 * @param image A registry reference, `oci:DIR[:TAG]`, `oci-archive:FILE`,
 * `docker-archive:FILE` or `containers-storage:REF`.
 * @returns The new entry's UUID.
 * @throws {UsageError} a malformed image or platform (2); {PolytheneError}
 * naming the image and the cause (1), 124 on timeout.
 */
export async function pull(
  image: string,
  options: PullOptions = {},
): Promise<string> {
  // Loaded on use: the tar, zstd and registry code never reaches `exec`.
  const { pullImage } = await import("../image/pull.ts");
  const request: PullRequest = {
    ...pullRequestOf(image, options),
    timeoutSeconds: options.timeoutSeconds,
    reuse: options.reuse,
  };
  return await pullImage(request);
}

/**
 * Runs `argv` inside `STORE/UUID`, as `polythene exec UUID -- ARGV...`.
 * The command is an argv array, never wrapped in `sh -c`.
 *
 * @example
 * ```ts
 * import { exec } from "../mod.ts";
 *
 * export async function osRelease(uuid: string): Promise<string> {
 *   const result = await exec(uuid, ["cat", "/etc/os-release"], {
 *     capture: true,
 *     env: { LANG: "C" },
 *     binds: [{ source: ".", target: "/workspace", readOnly: false }],
 *     timeoutSeconds: 30,
 *   });
 *   return result.stdout;
 * }
 * ```
 *
 * @returns The command's exit code (and output, with `capture`).
 * @throws {UsageError} invalid UUID, option or program name (2);
 * {RootfsNotFoundError} (1); {CommandNotFoundError} (127);
 * {NoBackendError} (126).
 */
export async function exec(
  uuid: string,
  argv: readonly string[],
  options: ExecOptions & ({ capture: true } | { input: string | Uint8Array }),
): Promise<CapturedExecResult>;
/** Runs `argv` with stdio passed through; see the overload above. */
export async function exec(
  uuid: string,
  argv: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult>;
export async function exec(
  uuid: string,
  argv: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  let output: [Uint8Array, Uint8Array] | undefined;
  const capture = options.capture || options.input !== undefined
    ? {
      input: typeof options.input === "string"
        ? new TextEncoder().encode(options.input)
        : options.input,
      collect: (stdout: Uint8Array, stderr: Uint8Array) => {
        output = [stdout, stderr];
      },
    }
    : undefined;
  const request: ExecRequest = {
    store: storeOf(options),
    uuid,
    argv,
    isolation: options.isolation,
    idMap: options.idMap ?? defaultIdMap(hostEnv),
    isolationFloor: options.isolationFloor ?? floorFrom(hostEnv),
    timeoutSeconds: options.timeoutSeconds,
    hostEnv,
    options: {
      env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      envFiles: options.envFiles,
      workdir: options.workdir === undefined
        ? undefined
        : parseWorkdir(options.workdir),
      binds: (options.binds ?? []).map(bindOf),
      network: options.network ?? "host",
      hosts: options.hosts ?? "host",
      user: userOf(options.user),
    },
    capture,
    log: logOf(options),
  };
  if (options.keep && !options.ephemeral) {
    throw new UsageError("Invalid options: keep needs ephemeral");
  }
  let kept: string | undefined;
  const code = options.ephemeral
    ? await execEphemeral(request, {
      keep: options.keep,
      onKept: (uuid) => kept = uuid,
    })
    : await execInEntry(request);
  if (capture === undefined) return { code, ...(kept ? { kept } : {}) };
  const decoder = new TextDecoder();
  return {
    code,
    ...(kept ? { kept } : {}),
    stdout: output ? decoder.decode(output[0]) : "",
    stderr: output ? decoder.decode(output[1]) : "",
  };
}
