/**
 * The shapes of the command table and the options several commands share.
 * The table itself is `table.ts`.
 *
 * @module
 */

import { BACKEND_NAMES } from "../backends/names.ts";
import { ID_MAP_CHOICES } from "../backends/id_map.ts";

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
  /** Repeatable: the value is every occurrence, in order (no env, no default). */
  multiple?: boolean;
  /** One line of help. */
  help: string;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  /** Name shown in usage, e.g. `UUID`. */
  name: string;
  /** One line of help. */
  help: string;
  /** The last positional only: it may be given more than once. */
  variadic?: boolean;
  /** The last positional only: it may be left out. */
  optional?: boolean;
  /** The values it takes, for completions. */
  choices?: readonly string[];
}

/** One subcommand. */
export interface CommandSpec {
  /** The word typed after `polythene`. */
  name: string;
  /** Other words for it (`ls` for `list`). */
  aliases?: readonly string[];
  /** One line shown in the command list. */
  summary: string;
  /** Options accepted before the positionals. */
  options: readonly OptionSpec[];
  /** Positionals, in order; all required but an `optional` last one. */
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
  help:
    "progress lines on stderr, timestamped (env: 1/true/yes/on, or 0/false/no/off)",
};

/** `-t/--timeout`, shared by commands that run something. */
export const TIMEOUT_OPTION: OptionSpec = {
  name: "timeout",
  short: "t",
  type: "string",
  metavar: "SECONDS",
  help: "kill the whole command tree after this long (exit 124)",
};

/** `-i/--isolation`, for exec and doctor. */
export const ISOLATION_OPTION: OptionSpec = {
  name: "isolation",
  short: "i",
  type: "string",
  metavar: "NAME",
  env: "POLYTHENE_ISOLATION",
  choices: BACKEND_NAMES,
  help:
    "backend probed first (bubblewrap | proot | chroot); the rest follow in the default order",
};

/** `--id-map`, for exec and doctor. */
export const ID_MAP_OPTION: OptionSpec = {
  name: "id-map",
  type: "string",
  metavar: "MODE",
  env: "POLYTHENE_ID_MAP",
  choices: ID_MAP_CHOICES,
  help:
    "ids as a non-root user on bubblewrap: auto | full (subordinate ranges) | fake (seccomp) | single",
};

/** `--isolation-floor`, for exec. */
export const ISOLATION_FLOOR_OPTION: OptionSpec = {
  name: "isolation-floor",
  type: "string",
  metavar: "NAME",
  env: "POLYTHENE_ISOLATION_FLOOR",
  choices: BACKEND_NAMES,
  help:
    "never use a backend weaker than NAME (strongest first: bubblewrap, proot, chroot); exit 126 instead",
};

/** `-h/--help`, accepted everywhere. */
export const HELP_OPTION: OptionSpec = {
  name: "help",
  short: "h",
  type: "boolean",
  help: "show this help and exit",
};

/** `exec`'s options for the command's environment, files, network and user. */
export const EXEC_OPTIONS: readonly OptionSpec[] = [
  {
    name: "env",
    short: "e",
    type: "string",
    metavar: "KEY[=VALUE]",
    multiple: true,
    help: "set a variable (repeatable); KEY alone passes the host's value",
  },
  {
    name: "env-file",
    type: "string",
    metavar: "FILE",
    multiple: true,
    help:
      "KEY=VALUE lines (KEY alone: the host's value); # comments; applied before --env (repeatable)",
  },
  {
    name: "workdir",
    short: "w",
    type: "string",
    metavar: "DIR",
    help: "working directory inside (default: the image's WorkingDir, else /)",
  },
  {
    name: "bind",
    short: "b",
    type: "string",
    metavar: "SRC:DST[:ro|:rw]",
    multiple: true,
    help:
      "bind host SRC at DST inside, created if missing; :ro read-only, :rw (default) writable (repeatable)",
  },
  {
    name: "network",
    type: "string",
    metavar: "MODE",
    choices: ["host", "none"],
    default: "host",
    help: "host, or none (only loopback; proot cannot, so it is skipped)",
  },
  {
    name: "hosts",
    type: "string",
    metavar: "FROM",
    choices: ["host", "image"],
    default: "host",
    help: "whose /etc/resolv.conf and /etc/hosts the command sees",
  },
  {
    name: "user",
    short: "u",
    type: "string",
    metavar: "root|UID[:GID]",
    help: "uid and gid inside (default: root); GID defaults to UID",
  },
  {
    name: "keep",
    type: "boolean",
    help:
      "with --ephemeral: if the command fails, keep its result as a new entry (UUID on stderr)",
  },
];

/** `--json`, for the store commands' machine-readable output. */
export const JSON_OPTION: OptionSpec = {
  name: "json",
  type: "boolean",
  help: "print JSON (schemas in docs/schemas/) instead of a table",
};

/** `-q/--quiet`: no progress display. */
export const QUIET_OPTION: OptionSpec = {
  name: "quiet",
  short: "q",
  type: "boolean",
  help: "no progress output",
};
