/**
 * `PolytheneSession`: a store and defaults shared by a test suite.
 *
 * @module
 */

import type { DoctorReport } from "../backends/doctor.ts";
import type { BackendName } from "../backends/names.ts";
import type { EntryInfo } from "../store/entries.ts";
import type { PruneReport } from "../store/prune.ts";

import type {
  CapturedExecResult,
  DoctorOptions,
  EnvLookup,
  ExecOptions,
  ExecResult,
  PruneOptions,
  PullOptions,
  PushedImage,
  PushOptions,
  RemoveOptions,
  RunOptions,
  StoreOptions,
} from "./options.ts";
import {
  type Provisioned,
  provisionOnce,
  type ProvisionOptions,
} from "./provision.ts";
import { run } from "./run.ts";
import { hostEnv, storeFrom } from "./_env.ts";
import {
  clone,
  commit,
  defaultIsolation,
  doctor,
  exec,
  inspect,
  list,
  prune,
  pull,
  push,
  rm,
} from "./functions.ts";

/** Options of {@linkcode PolytheneSession}. */
export interface SessionOptions extends StoreOptions {
  /** Backend to try first; default {@linkcode defaultIsolation}. */
  isolation?: BackendName;
  /** Where the defaults are read from; default `Deno.env.get`. */
  env?: EnvLookup;
}

/**
 * A store and its defaults, for test suites: the Python original's
 * `PolytheneSession`. Each method is the function of the same name with the
 * session's store, isolation and log filled in (per-call options win).
 *
 * @example
 * ```ts
 * import { PolytheneSession } from "../mod.ts";
 *
 * const session = new PolytheneSession({ store: "/tmp/polythene-doc" });
 * export async function uname(uuid: string): Promise<number> {
 *   const { code } = await session.exec(uuid, ["uname", "-a"]);
 *   return code;
 * }
 * ```
 */
export class PolytheneSession {
  /** The store root. */
  readonly store: string;
  /** The backend tried first, or undefined for the default order. */
  readonly isolation?: BackendName;
  readonly #log?: (message: string) => void;

  /**
   * Opens a session; nothing is created until it is used.
   *
   * @throws {UsageError} when `POLYTHENE_ISOLATION` names no backend (2).
   */
  constructor(options: SessionOptions = {}) {
    const env = options.env ?? hostEnv;
    this.store = options.store ?? storeFrom(env);
    this.isolation = options.isolation ?? defaultIsolation(env);
    this.#log = options.log;
  }

  /** {@linkcode pull} into this store; returns the new UUID. */
  pull(image: string, options: PullOptions = {}): Promise<string> {
    return pull(image, { ...this.#defaults(), ...options });
  }

  /** {@linkcode exec} in this store, with the session's isolation. */
  exec(
    uuid: string,
    argv: readonly string[],
    options: ExecOptions & ({ capture: true } | { input: string | Uint8Array }),
  ): Promise<CapturedExecResult>;
  /** {@linkcode exec} with stdio passed through. */
  exec(
    uuid: string,
    argv: readonly string[],
    options?: ExecOptions,
  ): Promise<ExecResult>;
  exec(
    uuid: string,
    argv: readonly string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    return exec(uuid, argv, {
      ...this.#defaults(),
      isolation: this.isolation,
      ...options,
    });
  }

  /** {@linkcode push} an image of this store's local image store. */
  push(
    image: string,
    dest: string,
    options: PushOptions = {},
  ): Promise<PushedImage> {
    return push(image, dest, { ...this.#defaults(), ...options });
  }

  /**
   * Provision once, reuse everywhere: pulls `ref` when its registry has it;
   * otherwise pulls `options.base`, runs `options.commands` in it (argv
   * arrays, in order, with `options.exec` and the session's isolation),
   * commits the entry as `ref` and pushes it to `ref`.
   *
   * ```ts
   * import { PolytheneSession } from "../mod.ts";
   *
   * const session = new PolytheneSession();
   * export const toolchain = () =>
   *   session.provision("ghcr.io/me/debian-hello:1", {
   *     base: "debian:12",
   *     commands: [["apt-get", "update"], ["apt-get", "install", "-y", "hello"]],
   *   });
   * ```
   *
   * @returns the entry to run in, whether REF was reused, the pushed digest
   * @throws {PolytheneError} naming REF and a provisioning command that
   * failed (1); pull, commit and push errors as they are. Only a registry's
   * "not found" for REF leads to provisioning.
   */
  provision(ref: string, options: ProvisionOptions): Promise<Provisioned> {
    return provisionOnce(
      {
        pull: (image, o) => this.pull(image, o),
        exec: (uuid, argv, o) => this.exec(uuid, argv, o),
        commit: (uuid, name) =>
          commit(uuid, { ...this.#defaults(), ref: name }),
        push: (image, dest, o) => this.push(image, dest, o),
      },
      ref,
      options,
    );
  }

  /**
   * {@linkcode run} in this store, with the session's isolation: the entry
   * `image` stands for, pulled when missing, copied for the command.
   */
  run(
    image: string,
    argv: readonly string[],
    options: RunOptions & ({ capture: true } | { input: string | Uint8Array }),
  ): Promise<CapturedExecResult>;
  /** {@linkcode run} with stdio passed through. */
  run(
    image: string,
    argv: readonly string[],
    options?: RunOptions,
  ): Promise<ExecResult>;
  run(
    image: string,
    argv: readonly string[],
    options: RunOptions = {},
  ): Promise<ExecResult> {
    return run(image, argv, {
      ...this.#defaults(),
      isolation: this.isolation,
      ...options,
    });
  }

  /** {@linkcode list} this store's entries. */
  list(): Promise<EntryInfo[]> {
    return list(this.#defaults());
  }

  /** {@linkcode inspect} one entry of this store. */
  inspect(uuid: string): Promise<EntryInfo> {
    return inspect(uuid, this.#defaults());
  }

  /** {@linkcode rm} entries of this store. */
  rm(
    uuids: string | readonly string[],
    options: RemoveOptions = {},
  ): Promise<void> {
    return rm(uuids, { ...this.#defaults(), ...options });
  }

  /** {@linkcode prune} this store. */
  prune(options: PruneOptions = {}): Promise<PruneReport> {
    return prune({ ...this.#defaults(), ...options });
  }

  /** {@linkcode clone} an entry of this store; returns the new UUID. */
  clone(uuid: string): Promise<string> {
    return clone(uuid, this.#defaults());
  }

  /** {@linkcode doctor} for this store, with the session's isolation. */
  doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
    return doctor({
      ...this.#defaults(),
      isolation: this.isolation,
      ...options,
    });
  }

  #defaults(): StoreOptions {
    return { store: this.store, log: this.#log };
  }
}
