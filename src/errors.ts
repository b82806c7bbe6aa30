/**
 * Typed errors that carry the exit code and an optional hint.
 *
 * Only `main.ts` catches them: it prints one line (`polythene: MESSAGE`), the
 * hint on a second line when there is one, and exits with `exitCode`.
 *
 * @module
 */

/** Stable exit codes of the command line and the library. */
export const ExitCode = {
  /** A requested entry does not exist. */
  NotFound: 1,
  /** The command line is wrong. */
  Usage: 2,
  /** The command ran longer than `--timeout`. */
  Timeout: 124,
  /**
   * No backend can run on this host (or none at or above the isolation
   * floor), or the one chosen failed while setting up its sandbox; or, as
   * in shells, the command was found but cannot be executed.
   */
  NoBackend: 126,
  /** The command does not exist inside the rootfs. */
  CommandNotFound: 127,
  /** Base for "killed by signal N" (128 + N). */
  SignalBase: 128,
} as const;

/** Options shared by every {@linkcode PolytheneError}. */
export interface PolytheneErrorOptions {
  /** The process exit code this error maps to. */
  exitCode: number;
  /** One line telling the user what to do next. */
  hint?: string;
  /** The lower-level error, shown under `--verbose`. */
  cause?: unknown;
}

/** A failure the user can cause or fix; it knows its exit code. */
export class PolytheneError extends Error {
  /** The process exit code for this failure. */
  readonly exitCode: number;
  /** What to do about it, if there is something to say. */
  readonly hint?: string;

  /** Makes an error with its exit code, hint and cause. */
  constructor(message: string, options: PolytheneErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "PolytheneError";
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }
}

/** The command line is wrong (exit 2); help for the command is shown. */
export class UsageError extends PolytheneError {
  /** The subcommand whose usage to print, if known. */
  readonly command?: string;

  /** Makes a usage error (exit 2), naming the subcommand when known. */
  constructor(message: string, command?: string) {
    super(message, { exitCode: ExitCode.Usage });
    this.name = "UsageError";
    this.command = command;
  }
}

/** `STORE/UUID` is not a directory (exit 1). */
export class RootfsNotFoundError extends PolytheneError {
  /**
   * Makes the error for `STORE/UUID` at `path` (exit 1): missing, or there
   * but `what` (`a symlink`, `not a directory`), which the store never
   * follows or uses.
   */
  constructor(uuid: string, path: string, what?: string) {
    super(
      what === undefined
        ? `No such UUID rootfs: ${uuid} (${path})`
        : `Not a UUID rootfs: ${uuid} (${path} is ${what}; entries are plain directories, and links in the store are never followed)`,
      {
        exitCode: ExitCode.NotFound,
        hint: what === undefined
          ? "Run `polythene list` to see the entries (or `polythene pull IMAGE` to stage one), or check --store"
          : "remove it, and use an entry that pull or clone made",
      },
    );
    this.name = "RootfsNotFoundError";
  }
}

/** The command's program is not inside the rootfs (exit 127). */
export class CommandNotFoundError extends PolytheneError {
  /** Makes the error for `program` missing from `rootfs` (exit 127). */
  constructor(program: string, rootfs: string) {
    super(`Command not found in rootfs: "${program}" (${rootfs})`, {
      exitCode: ExitCode.CommandNotFound,
    });
    this.name = "CommandNotFoundError";
  }
}

/** The command exists inside the rootfs but cannot be executed (exit 126). */
export class CommandNotExecutableError extends PolytheneError {
  /** Makes the error for `program`, found at `path`, which is `why`. */
  constructor(program: string, path: string, why: string) {
    super(
      `Command cannot be executed: "${program}" (${path} inside the rootfs) is ${why}`,
      {
        exitCode: ExitCode.NoBackend,
        hint: why === "a directory"
          ? "name the program inside it"
          : `make it executable, e.g. chmod +x ${path} inside the rootfs`,
      },
    );
    this.name = "CommandNotExecutableError";
  }
}

/** Why one backend could not be used. */
export interface BackendRejection {
  /** The backend's name. */
  backend: string;
  /** One line: why it was unusable. */
  reason: string;
  /** What would make it usable. */
  fix?: string;
}

/** No backend can run on this host (exit 126). */
export class NoBackendError extends PolytheneError {
  /** One entry per backend tried, in order. */
  readonly rejections: readonly BackendRejection[];

  /** Makes the error from each backend's rejection, in order (exit 126). */
  constructor(rejections: readonly BackendRejection[], detail = "") {
    const lines = rejections.map((r) =>
      `  ${r.backend}: ${r.reason}${r.fix ? ` (${r.fix})` : ""}`
    );
    super(
      `No isolation backend can run on this host${detail}:\n${
        lines.join("\n")
      }`,
      { exitCode: ExitCode.NoBackend },
    );
    this.name = "NoBackendError";
    this.rejections = rejections;
  }
}

/**
 * The backend chosen by its probe failed while setting up the sandbox for
 * the real run (exit 126). exec never tries another backend then: what fails
 * there may be the image's doing, and no image may choose a weaker backend.
 */
export class SandboxSetupError extends PolytheneError {
  /** The backend that failed. */
  readonly backend: string;

  /**
   * Makes the error for `backend`, which exited `code`; `reason` is its last
   * line on stderr, when polythene saw it (otherwise it is on the terminal).
   */
  constructor(backend: string, code: number, reason?: string) {
    super(
      `${backend} failed while setting up the sandbox (exit ${code})${
        reason === undefined
          ? "; its own message is above"
          : `: ${printable(reason)}`
      }`,
      {
        exitCode: ExitCode.NoBackend,
        hint:
          "no other backend was tried; the next run probes it again (polythene doctor says more)",
      },
    );
    this.name = "SandboxSetupError";
    this.backend = backend;
  }
}

/** The store root is unsafe to use: a symlink, not ours, or writable by others (exit 1). */
export class UnsafeStoreError extends PolytheneError {
  /** Makes the error for `store`, saying why it is unsafe (exit 1). */
  constructor(store: string, why: string) {
    super(`Refusing to use the store "${store}": ${why}`, {
      exitCode: ExitCode.NotFound,
      hint:
        "use a directory you own with mode 0700 (chmod 700), or pick another --store",
    });
    this.name = "UnsafeStoreError";
  }
}

/** An entry is locked by another process and the caller chose not to wait (exit 1). */
export class EntryBusyError extends PolytheneError {
  /** Makes the error for entry `uuid`, busy while `doing` it (exit 1). */
  constructor(uuid: string, doing: string) {
    super(`Entry ${uuid} is in use by another process: not ${doing} it`, {
      exitCode: ExitCode.NotFound,
      hint: "wait for the command using it to end, or drop --no-wait",
    });
    this.name = "EntryBusyError";
  }
}

/**
 * `text` with control characters escaped (ESC as the four characters `\x1b`), for strings
 * from images and registries that go into a message. Pure.
 */
export function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
