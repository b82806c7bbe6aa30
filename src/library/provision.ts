/**
 * "Provision once, reuse everywhere": pull REF when the registry has it;
 * otherwise pull the base, run the provisioning commands in it, commit the
 * entry as REF and push it, so that the next machine pulls REF instead of
 * provisioning again. Used by `PolytheneSession.provision`; the steps are
 * passed in, so the order and the decisions are tested on their own.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import { escapeControl } from "../escape.ts";
import type { ExecOptions } from "./options.ts";

/** Options of {@linkcode provisionOnce}. */
export interface ProvisionOptions {
  /** The image to start from when REF is not in the registry. */
  base: string;
  /** Provisioning commands, argv arrays, run in order as root by default. */
  commands: readonly (readonly string[])[];
  /** Options of every provisioning command (`env`, `binds`, `user`, ...). */
  exec?: ExecOptions;
  /** `false` allows plain http and unverified TLS (pull and push). */
  tlsVerify?: boolean;
  /** Push REF once built (default true); false keeps it in this store only. */
  push?: boolean;
}

/** What {@linkcode provisionOnce} did. */
export interface Provisioned {
  /** The entry to run in: REF as pulled, or the provisioned base. */
  uuid: string;
  /** True when REF was in the registry and was pulled as is. */
  reused: boolean;
  /** The digest pushed, when REF was built and pushed. */
  digest?: string;
}

/** The steps {@linkcode provisionOnce} runs; the library's functions. */
export interface ProvisionSteps {
  /** Pulls an image into a new entry; returns its UUID. */
  pull(image: string, options: { tlsVerify?: boolean }): Promise<string>;
  /** Runs a command in an entry; returns its exit code. */
  exec(
    uuid: string,
    argv: readonly string[],
    options: ExecOptions,
  ): Promise<{ code: number }>;
  /** Commits an entry as REF into the local image store. */
  commit(uuid: string, ref: string): Promise<unknown>;
  /** Pushes a local image to a registry. */
  push(
    image: string,
    dest: string,
    options: { tlsVerify?: boolean },
  ): Promise<{ digest: string }>;
}

/**
 * Pulls `ref`, or builds and pushes it (see the module doc).
 *
 * @throws {PolytheneError} (exit 1) naming REF and the command that failed
 * with its exit code; the pull, commit and push errors as they are. Only a
 * registry's "not found" for REF leads to provisioning: a refused login or a
 * network failure is thrown, never taken for an absent image.
 */
export async function provisionOnce(
  steps: ProvisionSteps,
  ref: string,
  options: ProvisionOptions,
): Promise<Provisioned> {
  const tls = { tlsVerify: options.tlsVerify };
  try {
    return { uuid: await steps.pull(ref, tls), reused: true };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const uuid = await steps.pull(options.base, tls);
  for (const [i, argv] of options.commands.entries()) {
    const { code } = await steps.exec(uuid, argv, options.exec ?? {});
    if (code !== 0) {
      throw new PolytheneError(
        `Cannot provision "${escapeControl(ref)}": command ${
          i + 1
        } of ${options.commands.length} (${
          escapeControl(argv.join(" "))
        }) exited with ${code}`,
        {
          exitCode: 1,
          hint:
            `The entry ${uuid} is left as the command left it, to look into`,
        },
      );
    }
  }
  await steps.commit(uuid, ref);
  if (options.push === false) return { uuid, reused: false };
  const { digest } = await steps.push(ref, ref, tls);
  return { uuid, reused: false, digest };
}

/**
 * Whether a pull failed because the registry does not have the image: a
 * registry error of kind `not-found` anywhere in the cause chain. Pure.
 */
export function isNotFound(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const kind = (current as { kind?: unknown }).kind;
    if (current.name === "RegistryError" && kind === "not-found") return true;
    current = current.cause;
  }
  return false;
}
