/**
 * The command tree as one declarative table: commands, options, environment
 * bindings and help text. Parsing, `--help` and usage errors are derived
 * from it (see `parse.ts` and `help.ts`).
 *
 * @module
 */

import {
  type CommandSpec,
  EXEC_OPTIONS,
  HELP_OPTION,
  ID_MAP_OPTION,
  ISOLATION_FLOOR_OPTION,
  ISOLATION_OPTION,
  JSON_OPTION,
  type OptionSpec,
  QUIET_OPTION,
  STORE_OPTION,
  TIMEOUT_OPTION,
  VERBOSE_OPTION,
} from "./table_options.ts";
import { runCommandSpec } from "./table_run.ts";

import { IMAGE_COMMANDS } from "./table_images.ts";

export type {
  CommandSpec,
  OptionSpec,
  PositionalSpec,
} from "./table_options.ts";

/** The store's lifecycle commands: list, inspect, rm, prune, clone. */
const STORE_COMMANDS: readonly CommandSpec[] = [
  {
    name: "list",
    aliases: ["ls"],
    summary: "list the entries of the store",
    options: [STORE_OPTION, JSON_OPTION, VERBOSE_OPTION, HELP_OPTION],
    positionals: [],
    description:
      "Never waits for, and never fails because of, other processes.",
  },
  {
    name: "inspect",
    summary: "show all that is known about one entry",
    options: [STORE_OPTION, JSON_OPTION, VERBOSE_OPTION, HELP_OPTION],
    positionals: [{ name: "UUID", help: "the entry to show" }],
  },
  {
    name: "rm",
    aliases: ["remove"],
    summary: "remove entries (waits for commands running in them)",
    options: [
      STORE_OPTION,
      {
        name: "no-wait",
        type: "boolean",
        help: "fail at once when an entry is in use instead of waiting",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [{
      name: "UUID",
      help: "the entries to remove",
      variadic: true,
    }],
  },
  {
    name: "prune",
    summary:
      "remove old entries, and sweep what interrupted pulls and runs left",
    options: [
      STORE_OPTION,
      {
        name: "older-than",
        type: "string",
        metavar: "DURATION",
        help:
          "remove entries last modified longer ago than this (30m, 12h, 7d, 2w)",
      },
      {
        name: "all",
        type: "boolean",
        help: "remove every entry that is not in use",
      },
      {
        name: "dry-run",
        type: "boolean",
        help: "show what would be removed; change nothing",
      },
      JSON_OPTION,
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [],
    description:
      "Always sweeps staging directories of killed pulls, their unfinished blobs,\n" +
      "clones of killed --ephemeral runs, and cached blobs no entry refers to.\n" +
      "Entries in use are skipped, never removed.",
  },
  {
    name: "clone",
    summary:
      "copy an entry into a new one (reflink where possible); prints its UUID",
    options: [STORE_OPTION, QUIET_OPTION, VERBOSE_OPTION, HELP_OPTION],
    positionals: [{ name: "UUID", help: "the entry to copy" }],
  },
];

/** The subcommands but `run`, which is derived from `pull` and `exec`. */
const BASE_COMMANDS: readonly CommandSpec[] = [
  {
    name: "pull",
    summary: "stage an image's root filesystem in the store; prints its UUID",
    options: [
      STORE_OPTION,
      {
        ...TIMEOUT_OPTION,
        help: "give up after this long (exit 124); nothing is published",
      },
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
        choices: ["native", "podman", "auto"],
        default: "native",
        help:
          "native (built-in OCI client), podman (as the original did), or auto (native, then podman when no registry location can be reached)",
      },
      {
        name: "tls-verify",
        type: "boolean",
        default: "true",
        help:
          "verify TLS and require https (default); --tls-verify=false allows plain http and unverified TLS",
      },
      {
        name: "max-image-size",
        type: "string",
        metavar: "SIZE",
        default: "64G",
        help:
          "refuse an image whose layers expand to more (bytes, or with K, M, G, T)",
      },
      {
        name: "max-image-entries",
        type: "string",
        metavar: "N",
        default: "1000000",
        help: "refuse an image whose layers hold more entries than this",
      },
      {
        name: "max-layers",
        type: "string",
        metavar: "N",
        default: "128",
        help: "refuse an image with more layers than this",
      },
      {
        name: "quiet",
        short: "q",
        type: "boolean",
        help: "no progress output",
      },
      {
        name: "reuse",
        type: "boolean",
        help:
          "print the newest entry pulled from the same reference at the same digest instead of making another",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [{
      name: "IMAGE",
      help:
        "a registry reference (busybox, host:5000/ns/img@sha256:...), oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF|:@N] (N from 0) or containers-storage:REF",
    }],
    description:
      "The image is unpacked into a temporary directory inside the store and\n" +
      "published as STORE/UUID only once every digest has been verified.\n" +
      "An image that cannot fit in the free space of the store's filesystem\n" +
      "is refused, before writing when its layer sizes already tell.",
  },
  {
    name: "push",
    summary:
      "upload a committed image to a registry; prints REF@DIGEST of what was pushed",
    options: [
      STORE_OPTION,
      { ...TIMEOUT_OPTION, help: "give up after this long (exit 124)" },
      {
        name: "tls-verify",
        type: "boolean",
        default: "true",
        help:
          "verify TLS and require https (default); --tls-verify=false allows plain http and unverified TLS",
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
    positionals: [
      {
        name: "UUID|REF",
        help:
          "an entry's UUID (its newest commit), a REF given to commit, or sha256:DIGEST",
      },
      { name: "DEST-REF", help: "where to push: HOST/REPOSITORY[:TAG]" },
    ],
    description:
      "Uses pull's credentials (podman/docker auth files and credential helpers), TLS\n" +
      "rules, retries and redirect rules. Blobs the registry has are skipped, blobs of\n" +
      "a base pulled from the same registry are mounted, large blobs go in chunks that\n" +
      "resume after a reset, and the manifest goes last.",
  },
  {
    name: "exec",
    summary: "run a command inside a stored root filesystem",
    options: [
      STORE_OPTION,
      TIMEOUT_OPTION,
      ISOLATION_OPTION,
      ID_MAP_OPTION,
      ISOLATION_FLOOR_OPTION,
      ...EXEC_OPTIONS,
      {
        name: "ephemeral",
        type: "boolean",
        help:
          "run on an overlay of the entry (else a fresh clone), removed afterwards whatever the outcome",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [{ name: "UUID", help: "the entry under STORE to run in" }],
    rest: { name: "CMD [ARG...]", help: "the command, passed as argv" },
    description:
      "Backends are tried in the order bubblewrap, proot, chroot (chroot only as root);\n" +
      "a fall-back to another one is said on stderr. The command's own exit status is\n" +
      "returned; 124 means a timeout, 126 that no backend (at or above the floor) can\n" +
      "run here or the one chosen failed while setting up, 127 that the command is not\n" +
      "in the rootfs.",
  },
  ...STORE_COMMANDS,
  ...IMAGE_COMMANDS,
  {
    name: "doctor",
    summary: "check which backends work here, why not, and how to fix them",
    options: [
      STORE_OPTION,
      {
        ...ISOLATION_OPTION,
        help: "backend exec would probe first, as for exec",
      },
      { ...ID_MAP_OPTION, help: "id mapping exec would use, as for exec" },
      {
        name: "json",
        type: "boolean",
        help: "print JSON (schema in docs/schemas/doctor.json)",
      },
      {
        name: "refresh",
        type: "boolean",
        help: "probe again instead of using the probe cache (and update it)",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [],
    description:
      "Uses the probe cache exec uses (STORE/.polythene/probes.json). Exits 0 when\n" +
      "some backend works, 126 when none does.",
  },
  {
    name: "completions",
    summary: "print a shell completion script (bash, zsh or fish)",
    options: [HELP_OPTION],
    positionals: [{
      name: "SHELL",
      help: "bash, zsh or fish",
      choices: ["bash", "zsh", "fish"],
    }],
    description:
      "bash: source <(polythene completions bash); zsh: source <(polythene completions zsh);\n" +
      "fish: polythene completions fish | source (or save it under\n" +
      "~/.config/fish/completions/polythene.fish). Completes commands, options,\n" +
      "backend names and the UUIDs in the store.",
  },
];

/** The subcommands, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  runCommandSpec(BASE_COMMANDS),
  ...BASE_COMMANDS,
];

/**
 * Options that may also come before the command, as in
 * `polythene -s DIR list`; the command must accept them.
 */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  STORE_OPTION,
  VERBOSE_OPTION,
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
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}
