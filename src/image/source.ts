/**
 * The `IMAGE` argument of `polythene pull`: a registry reference or one of
 * skopeo's local transports.
 *
 * ```ts
 * parseImageSource("busybox");
 * // { kind: "registry", reference: { registry: "docker.io", ... } }
 * parseImageSource("oci:/tmp/layout:v1");
 * // { kind: "oci", path: "/tmp/layout", tag: "v1" }
 * ```
 *
 * As in skopeo, the path of `oci:`, `oci-archive:` and `docker-archive:` ends
 * at the first `:`; a path that contains `:` cannot be named this way. A
 * registry host literally called `oci` is reached with `docker://oci:...`.
 *
 * Pure: no I/O, no permissions.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseReference } from "./reference.ts";
import type { ImageReference } from "./types.ts";

/** Where `pull` takes the image from. */
export type ImageSource =
  | {
    /** A registry, through the native client or podman. */
    kind: "registry";
    /** The normalised reference. */
    reference: ImageReference;
  }
  | {
    /** An OCI image layout directory. */
    kind: "oci";
    /** The layout directory. */
    path: string;
    /** `org.opencontainers.image.ref.name` to pick; the only image if unset. */
    tag?: string;
  }
  | {
    /** A tar of an OCI image layout. */
    kind: "oci-archive";
    /** The tar file. */
    path: string;
    /** As for `oci`. */
    tag?: string;
  }
  | {
    /** The output of `docker save` or `podman save`. */
    kind: "docker-archive";
    /** The tar file. */
    path: string;
    /** A `RepoTags` entry to pick, from `FILE:REF`. */
    reference?: string;
    /** The position in `manifest.json` to pick, from `FILE:@N`. */
    index?: number;
  }
  | {
    /** An image in podman's local storage, exported through podman. */
    kind: "containers-storage";
    /** The name or ID, passed to podman as it is. */
    reference: string;
  };

/** skopeo transports polythene does not read, for a clear refusal. */
const UNSUPPORTED = ["dir", "docker-daemon", "ostree", "sif", "tarball"];

/**
 * Parses `IMAGE`.
 *
 * Forms: a docker-style reference (optionally `docker://`), `oci:DIR[:TAG]`,
 * `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF|:@N]` and
 * `containers-storage:REF`.
 *
 * @throws {UsageError} (exit 2) naming `text` and what is wrong with it.
 */
export function parseImageSource(text: string): ImageSource {
  const problem = (why: string) =>
    new UsageError(`Invalid image "${text}": ${why}`, "pull");
  const colon = text.indexOf(":");
  const transport = colon < 0 ? "" : text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (transport) {
    case "oci":
    case "oci-archive": {
      const [path, tag] = splitPath(rest);
      if (path === "") throw problem(`${transport}: needs a path`);
      if (tag !== undefined && !/^[\x21-\x7e]+$/.test(tag)) {
        throw problem(`tag "${tag}" must be printable ASCII without spaces`);
      }
      return tag === undefined
        ? { kind: transport, path }
        : { kind: transport, path, tag };
    }
    case "docker-archive": {
      const [path, selector] = splitPath(rest);
      if (path === "") throw problem("docker-archive: needs a path");
      if (selector === undefined) return { kind: "docker-archive", path };
      if (selector.startsWith("@")) {
        const index = /^@(0|[1-9][0-9]{0,8})$/.exec(selector)?.[1];
        if (index === undefined) {
          throw problem(`"${selector}" is not @ and an image index (0, 1, …)`);
        }
        return { kind: "docker-archive", path, index: Number(index) };
      }
      parseReference(selector); // validates; RepoTags hold the short form
      return { kind: "docker-archive", path, reference: selector };
    }
    case "containers-storage": {
      if (rest === "") throw problem("containers-storage: needs an image");
      if (rest.startsWith("-") || /[\s\0]/.test(rest)) {
        throw problem(
          "the image must not start with '-' or contain white space",
        );
      }
      return { kind: "containers-storage", reference: rest };
    }
  }
  if (UNSUPPORTED.includes(transport)) {
    throw problem(
      `the "${transport}:" transport is not supported ` +
        "(use a registry reference, oci:, oci-archive:, docker-archive: " +
        "or containers-storage:)",
    );
  }
  return { kind: "registry", reference: parseReference(text) };
}

/** skopeo's split: the path ends at the first `:`; an empty rest is unset. */
function splitPath(text: string): [string, string | undefined] {
  const colon = text.indexOf(":");
  if (colon < 0) return [text, undefined];
  const after = text.slice(colon + 1);
  return [text.slice(0, colon), after === "" ? undefined : after];
}
