/**
 * The command's environment: the same on every backend, and nothing from the
 * host but `TERM`.
 *
 * @module
 */

import { DEFAULT_PATH } from "../backends/backend.ts";

/**
 * Builds the environment inside the sandbox. Pure.
 *
 * @param hostTerm The host's `TERM`, passed on when set.
 */
export function sandboxEnv(
  hostTerm: string | undefined,
): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: "/root" };
  if (hostTerm !== undefined && hostTerm !== "") env.TERM = hostTerm;
  return env;
}
