/**
 * The image commands of the command table: `commit` and `export`.
 *
 * @module
 */

import {
  type CommandSpec,
  HELP_OPTION,
  QUIET_OPTION,
  STORE_OPTION,
  VERBOSE_OPTION,
} from "./table_options.ts";

/** The formats `export` writes. */
export const EXPORT_FORMATS = [
  "oci",
  "oci-archive",
  "docker-archive",
  "tar",
] as const;

/** `commit` and `export`. */
export const IMAGE_COMMANDS: readonly CommandSpec[] = [
  {
    name: "commit",
    summary:
      "make an image of an entry in the local image store; prints its digest",
    options: [
      STORE_OPTION,
      {
        name: "change",
        type: "string",
        metavar: "EDIT",
        multiple: true,
        help: "edit the image config: ENV=NAME=VALUE or WORKDIR=/path",
      },
      {
        name: "message",
        short: "m",
        type: "string",
        metavar: "TEXT",
        help: "the comment of the commit's history item",
      },
      {
        name: "compression",
        type: "string",
        metavar: "ALGORITHM",
        default: "gzip",
        choices: ["gzip", "zstd"],
        help: "compression of the new layer (default gzip)",
      },
      QUIET_OPTION,
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [
      { name: "UUID", help: "the entry to commit" },
      {
        name: "REF",
        help: "a name for the image (normalised as pull does)",
        optional: true,
      },
    ],
    description:
      "For an entry pulled from a registry, the image is the base image's layers plus\n" +
      "one layer with what changed (deleted files as whiteouts); otherwise one layer\n" +
      "with the whole tree. Polythene's own files are left out. Fails while a\n" +
      "command runs in the entry.",
  },
  {
    name: "export",
    summary: "write a committed image, or its root filesystem, to DEST",
    options: [
      STORE_OPTION,
      {
        name: "format",
        type: "string",
        metavar: "FORMAT",
        default: "oci-archive",
        choices: EXPORT_FORMATS,
        help:
          "oci (a layout directory), oci-archive, docker-archive, or tar (the rootfs)",
      },
      VERBOSE_OPTION,
      HELP_OPTION,
    ],
    positionals: [
      {
        name: "IMAGE",
        help: "an entry's UUID (its newest commit), a REF or a digest",
      },
      { name: "DEST", help: "the directory (oci) or file to write" },
    ],
    description:
      "The archives load with podman load, docker load and skopeo copy. DEST must\n" +
      "not exist yet (an oci DEST may be an empty directory).",
  },
];
