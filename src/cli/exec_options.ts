/**
 * `exec`'s `--env`, `--env-file`, `--workdir`, `--bind`, `--network`,
 * `--hosts` and `--user`, from parsed option values to {@linkcode ExecOptions}.
 * Pure but for the host's working directory, which relative bind sources
 * are taken from.
 *
 * @module
 */

import { parseBind, parseUser, parseWorkdir } from "../exec/options.ts";
import type { ExecOptions } from "../exec/prepare.ts";
import type { OptionValues } from "./parse.ts";
import { listValue, optionalString } from "./values.ts";

/**
 * Converts the values.
 *
 * @throws {UsageError} on a malformed bind, user or workdir (exit 2).
 */
export function execOptions(
  values: OptionValues,
  cwd: () => string = () => Deno.cwd(),
): ExecOptions {
  const workdir = optionalString(values, "workdir");
  const user = optionalString(values, "user");
  const binds = listValue(values, "bind");
  return {
    env: listValue(values, "env"),
    envFiles: listValue(values, "env-file"),
    workdir: workdir === undefined ? undefined : parseWorkdir(workdir),
    binds: binds.length === 0 ? [] : binds.map((b) => parseBind(b, cwd())),
    network: values.network === "none" ? "none" : "host",
    hosts: values.hosts === "image" ? "image" : "host",
    user: user === undefined ? undefined : parseUser(user),
  };
}
