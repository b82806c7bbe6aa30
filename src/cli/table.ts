/**
 * The command tree as one declarative table: commands, options, environment
 * bindings and help text. Parsing, `--help` and usage errors are derived
 * from it (see `parse.ts` and `help.ts`).
 *
 * @module
 */

import { BACKEND_NAMES } from "../backends/names.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Long name, without the dashes. */
  name: string;
  /** One-letter short name. */
  short?: string;
  /** `string` takes a value; `boolean` is a flag. */
  type: "string" | "boolean";
  /** Placeholder shown in help for a value. */
  metavar?: string;
  /** Environment variable that supplies the value when the option is absent. */
  env?: string;
  /** Value used when neither the option nor `env` is given. */
  default?: string;
  /** Allowed values, checked by the parser. */
  choices?: readonly string[];
  /** One line of help. */
  help: string;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  /** Name shown in usage, e.g. `UUID`. */
  name: string;
  /** One line of help. */
  help: string;
}

/** One subcommand. */
export interface CommandSpec {
  /** The word typed after `polythene`. */
  name: string;
  /** One line shown in the command list. */
  summary: string;
  /** Options accepted before the positionals. */
  options: readonly OptionSpec[];
  /** Positionals, all required, in order. */
  positionals: readonly PositionalSpec[];
  /** When set, a command follows `--` and is required; this is its name. */
  rest?: PositionalSpec;
  /** Extra help paragraphs. */
  description?: string;
}

/** Options every subcommand accepts. */
export const STORE_OPTION: OptionSpec = {
  name: "store",
  short: "s",
  type: "string",
  metavar: "DIR",
  env: "POLYTHENE_STORE",
  default: "/var/tmp/polythene",
  help: "store root",
};

/** `-v/--verbose`, shared by every subcommand. */
export const VERBOSE_OPTION: OptionSpec = {
  name: "verbose",
  short: "v",
  type: "boolean",
  env: "POLYTHENE_VERBOSE",
  help: "progress lines on stderr, timestamped (env: any non-empty value)",
};

/** `-t/--timeout`, shared by commands that run something. */
export const TIMEOUT_OPTION: OptionSpec = {
  name: "timeout",
  short: "t",
  type: "string",
  metavar: "SECONDS",
  help: "kill the whole command tree after this long (exit 124)",
};

/** `-h/--help`, accepted everywhere. */
export const HELP_OPTION: OptionSpec = {
  name: "help",
  short: "h",
  type: "boolean",
  help: "show this help and exit",
};

/** The subcommands, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "pull",
    summary: "stage an image's root filesystem in the store; prints its UUID",
    options: [
      STORE_OPTION,
      TIMEOUT_OPTION,
      {
        name: "platform",
        type: "string",
        metavar: "OS/ARCH[/VARIANT]",
        help: "platform to select from a multi-arch image (default: this host)",
      },
      {
        name: "puller",
        type: "string",
        metavar: "NAME",
        choices: ["native", "podman"],
        default: "native",
        help: "native (built-in OCI client) or podman (as the original did)",
      },
      {
        name: "tls-verify",
        type: "string",
        metavar: "BOOL",
        choices: ["true", "false"],
        default: "true",
        help: "false allows plain http and unverified TLS for this pull",
      },
      {
        name: "quiet",
        short: "q",
        type: "boolean",
        help: "no progress output",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [{
      name: "IMAGE",
      help:
        "a registry reference (busybox, host:5000/ns/img@sha256:...), oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE or containers-storage:REF",
    }],
    description:
      "The image is unpacked into a temporary directory inside the store and\n" +
      "published as STORE/UUID only once every digest has been verified.",
  },
  {
    name: "exec",
    summary: "run a command inside a stored root filesystem",
    options: [
      STORE_OPTION,
      TIMEOUT_OPTION,
      {
        name: "isolation",
        short: "i",
        type: "string",
        metavar: "NAME",
        env: "POLYTHENE_ISOLATION",
        choices: BACKEND_NAMES,
        help:
          "backend probed first (bubblewrap | proot | chroot); the rest follow in the default order",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [{ name: "UUID", help: "the entry under STORE to run in" }],
    rest: { name: "CMD [ARG...]", help: "the command, passed as argv" },
    description:
      "Backends are tried in the order bubblewrap, proot, chroot (chroot only as root).\n" +
      "The command's own exit status is returned; 124 means a timeout, 126 that no\n" +
      "backend can run here, 127 that the command is not in the rootfs.",
  },
];

/** Options of `polythene` itself, before any subcommand. */
export const ROOT_OPTIONS: readonly OptionSpec[] = [
  HELP_OPTION,
  {
    name: "version",
    short: "V",
    type: "boolean",
    help: "print the version and exit",
  },
];

/** Finds a subcommand by name. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
