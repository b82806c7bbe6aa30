/**
 * The library's defaults read from the environment: `defaultIdMap` and
 * `defaultIsolation` (re-exported by `functions.ts`).
 *
 * @module
 */

import { type IdMapChoice, parseIdMap } from "../backends/id_map.ts";
import { type BackendName, isBackendName } from "../backends/names.ts";
import { UsageError } from "../errors.ts";

import type { EnvLookup } from "./options.ts";

/**
 * `--id-map` from `POLYTHENE_ID_MAP`, when set.
 *
 * @throws {UsageError} when it names no mode (2).
 */
export function defaultIdMap(env: EnvLookup): IdMapChoice | undefined {
  const named = env("POLYTHENE_ID_MAP");
  if (named === undefined || named === "") return undefined;
  return parseIdMap(named, "POLYTHENE_ID_MAP");
}

/**
 * The backend a {@linkcode PolytheneSession} tries first, as the Python
 * original chose it: `POLYTHENE_ISOLATION` when set, else `proot` on
 * GitHub Actions (`GITHUB_ACTIONS=true`, whose Ubuntu runners restrict
 * user namespaces), else none (the default order). Pure.
 *
 * @example
 * ```ts
 * import { defaultIsolation } from "../mod.ts";
 *
 * const env: Record<string, string> = { GITHUB_ACTIONS: "true" };
 * console.log(defaultIsolation((name) => env[name])); // "proot"
 * ```
 *
 * @throws {UsageError} when `POLYTHENE_ISOLATION` names no backend (2).
 */
export function defaultIsolation(env: EnvLookup): BackendName | undefined {
  const named = env("POLYTHENE_ISOLATION");
  if (named !== undefined && named !== "") {
    if (!isBackendName(named)) {
      throw new UsageError(
        `Invalid POLYTHENE_ISOLATION "${named}": expected bubblewrap, proot or chroot`,
      );
    }
    return named;
  }
  return env("GITHUB_ACTIONS") === "true" ? "proot" : undefined;
}
