/**
 * Registry credentials, looked up as podman looks them up.
 *
 * Files, in order (the first that has an entry for the registry wins):
 *
 * 1. `$REGISTRY_AUTH_FILE`, or else `$XDG_RUNTIME_DIR/containers/auth.json`
 *    (podman uses one or the other, never both);
 * 2. `$XDG_CONFIG_HOME/containers/auth.json` (default
 *    `~/.config/containers/auth.json`);
 * 3. `$DOCKER_CONFIG/config.json`, or else `~/.docker/config.json`.
 *
 * In each file: `credHelpers[REGISTRY]`, then `credsStore` (both run
 * `docker-credential-NAME get`), then `auths`. In `auths`, a key may name a
 * repository or namespace (`host/ns/repo`, podman's longest match first) or
 * the registry; `http(s)://` keys count by their host only, and docker.io's
 * aliases (`https://index.docker.io/v1/`, `registry-1.docker.io`) are
 * docker.io.
 *
 * Secrets never appear in error messages; errors name the file.
 *
 * Permissions: `--allow-env=REGISTRY_AUTH_FILE,XDG_RUNTIME_DIR,
 * XDG_CONFIG_HOME,DOCKER_CONFIG,HOME` (plus {@linkcode HELPER_ENV_VARS} for
 * helpers), `--allow-read` of those files, `--allow-run` of the helpers.
 *
 * @module
 */

import {
  authFiles,
  badFile,
  type Credential,
  type EnvLookup,
  lookupInFile,
  readIfExists,
} from "./credential_files.ts";
import {
  defaultRunHelper,
  HELPER_ENV_VARS,
  type HelperRunner,
  helperServerUrl,
  parseHelperOutput,
} from "./credential_helpers.ts";

export {
  AUTH_ENV_VARS,
  type AuthFile,
  authFiles,
  type Credential,
  type EnvLookup,
  type FileLookup,
  lookupInFile,
  normalizeKey,
  normalizeRegistry,
} from "./credential_files.ts";
export {
  HELPER_ENV_VARS,
  type HelperOutput,
  type HelperRunner,
  helperServerUrl,
  parseHelperOutput,
} from "./credential_helpers.ts";

/** Options of {@linkcode findCredentials}. */
export interface CredentialLookupOptions {
  /** The environment; default `Deno.env.get`. */
  env?: EnvLookup;
  /** Reads a file; undefined when it does not exist. Default: Deno. */
  readTextFile?: (path: string) => Promise<string | undefined>;
  /** Runs a credential helper. Default: through `src/process/spawn.ts`. */
  runHelper?: HelperRunner;
}

/**
 * Finds the credentials for `registry` (e.g. `quay.io`, `127.0.0.1:5000`)
 * and `repository`, in podman's order.
 *
 * @returns undefined when no file or helper has any.
 * @throws {PolytheneError} naming the file or helper when one is malformed
 * or a helper fails; secrets are never in the message.
 */
export async function findCredentials(
  registry: string,
  repository: string,
  options: CredentialLookupOptions = {},
): Promise<Credential | undefined> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const read = options.readTextFile ?? readIfExists;
  const runHelper = options.runHelper ?? defaultRunHelper;
  for (const file of authFiles(env)) {
    const text = await read(file.path);
    if (text === undefined || text.trim() === "") continue;
    let content: unknown;
    try {
      content = JSON.parse(text);
    } catch (error) {
      throw badFile(file.path, "it is not valid JSON", error);
    }
    const found = lookupInFile(content, file.path, registry, repository);
    if (found === undefined) continue;
    if (found.kind === "credential") return found.credential;
    const helperEnv: Record<string, string> = {};
    for (const name of HELPER_ENV_VARS) {
      const value = env(name);
      if (value !== undefined) helperEnv[name] = value;
    }
    const output = await runHelper(
      `docker-credential-${found.helper}`,
      helperServerUrl(registry),
      helperEnv,
    );
    const credential = parseHelperOutput(found.helper, output);
    if (credential !== undefined) return credential;
    if (found.fallback !== undefined) return found.fallback;
  }
  return undefined;
}
