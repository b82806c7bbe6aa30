/**
 * Registry credential helpers: `docker-credential-NAME get`, what it is
 * asked and how its answer is read. Which helper runs is in `credentials.ts`.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import { runCaptured } from "../../process/spawn.ts";
import { type Credential, normalizeRegistry } from "./credential_files.ts";
import { PULL_FAILED_EXIT_CODE } from "./registry_error.ts";

/** What a credential helper returned. */
export interface HelperOutput {
  /** Exit code; 127 when it could not be started. */
  code: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
}

/** Runs `docker-credential-NAME get` with `input` on stdin. */
export type HelperRunner = (
  program: string,
  input: string,
  env: Record<string, string>,
) => Promise<HelperOutput>;

/** Host variables passed to a credential helper (explicit env). */
export const HELPER_ENV_VARS = [
  "PATH",
  "HOME",
  "XDG_RUNTIME_DIR",
  "DBUS_SESSION_BUS_ADDRESS",
  "GNUPGHOME",
  "PASSWORD_STORE_DIR",
] as const;

/** The server URL a credential helper is asked about. Pure. */
export function helperServerUrl(registry: string): string {
  return normalizeRegistry(registry) === "docker.io"
    ? "https://index.docker.io/v1/"
    : registry;
}

/**
 * Reads a helper's JSON answer. Undefined when it says the credentials are
 * not found. Pure.
 *
 * @throws {PolytheneError} naming the helper (never the secret) otherwise.
 */
export function parseHelperOutput(
  helper: string,
  output: HelperOutput,
): Credential | undefined {
  const program = `docker-credential-${helper}`;
  if (output.code !== 0) {
    const said = `${output.stdout}\n${output.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    const reason = output.code === 127
      ? "it is not installed"
      : `it failed with exit code ${output.code}: ${
        firstLine(output.stderr || output.stdout)
      }`;
    throw new PolytheneError(
      `Cannot get registry credentials from ${program}: ${reason}`,
      { exitCode: PULL_FAILED_EXIT_CODE },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.stdout);
  } catch {
    parsed = undefined;
  }
  const record = (parsed ?? {}) as Record<string, unknown>;
  const username = record.Username;
  const secret = record.Secret;
  if (typeof username !== "string" || typeof secret !== "string") {
    throw new PolytheneError(
      `Cannot get registry credentials from ${program}: its output is not ` +
        "a JSON object with Username and Secret",
      { exitCode: PULL_FAILED_EXIT_CODE },
    );
  }
  if (username === "" && secret === "") return undefined;
  return username === "<token>"
    ? { source: program, identityToken: secret }
    : { source: program, username, password: secret };
}

export async function defaultRunHelper(
  program: string,
  input: string,
  env: Record<string, string>,
): Promise<HelperOutput> {
  try {
    return await runCaptured([program, "get"], env, input);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new PolytheneError(
        `Cannot get registry credentials from ${program}: polythene is not allowed to run it`,
        {
          exitCode: PULL_FAILED_EXIT_CODE,
          cause: error,
          hint:
            "Log in with podman login so that the credentials are in auth.json",
        },
      );
    }
    throw error;
  }
}

function firstLine(text: string): string {
  return (text.trim().split("\n")[0] ?? "").slice(0, 200);
}
