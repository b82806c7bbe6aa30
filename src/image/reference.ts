/**
 * Docker-style image references, parsed and normalised the way docker (the
 * `distribution/reference` package) does: `busybox` is
 * `docker.io/library/busybox:latest`.
 *
 * ```ts
 * const ref = parseReference("127.0.0.1:5000/ns/img:1");
 * // { registry: "127.0.0.1:5000", repository: "ns/img", tag: "1" }
 * formatReference(ref); // "127.0.0.1:5000/ns/img:1"
 * ```
 *
 * Pure: no I/O, no permissions.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { ImageReference } from "./types.ts";

/** The registry that short names resolve to. */
export const DOCKER_HUB = "docker.io";

/** Tag used when a reference names neither a tag nor a digest. */
export const DEFAULT_TAG = "latest";

/** The longest repository name (domain included) docker accepts. */
export const NAME_MAX = 255;

const DOCKER_PREFIX = "docker://";
const HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io"]);

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])` +
    `(?::[0-9]+)?$`,
);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

/** Digest algorithms polythene can verify, with their hex length. */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = {
  sha256: 64,
  sha512: 128,
};

/**
 * Why `digest` is not a digest polythene can verify, or undefined when it is
 * one (`sha256:` + 64 lowercase hex digits, or `sha512:` + 128). Pure.
 */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(":");
  if (colon <= 0) return `digest "${digest}" is not ALGORITHM:HEX`;
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `digest algorithm "${algorithm}" is not supported (use sha256)`;
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `a ${algorithm} digest is ${length} lowercase hex digits`;
  }
  return undefined;
}

/**
 * Parses and normalises a docker-style image reference.
 *
 * Accepts `[docker://][DOMAIN[:PORT]/]PATH[:TAG][@DIGEST]`. The domain is the
 * first `/`-separated component when it contains `.` or `:`, is `localhost`,
 * or has an upper-case letter; otherwise the registry is `docker.io`, where a
 * one-component path gets `library/` in front. `index.docker.io` is
 * `docker.io`. The tag defaults to `latest` only when there is no digest.
 *
 * @param text The reference as the user typed it.
 * @returns The normalised reference.
 * @throws {UsageError} (exit 2) naming `text` and what is wrong with it.
 */
export function parseReference(text: string): ImageReference {
  const problem = (why: string) =>
    new UsageError(`Invalid image reference "${text}": ${why}`, "pull");
  let rest = text.startsWith(DOCKER_PREFIX)
    ? text.slice(DOCKER_PREFIX.length)
    : text;
  if (rest === "") return fail(problem("it is empty"));
  if (/^\.{0,2}\//.test(rest)) {
    return fail(problem(
      `it is a path, not a registry reference: write oci:${rest} for an OCI ` +
        `layout directory, or oci-archive: or docker-archive: for a tar file`,
    ));
  }
  if (IMAGE_ID_RE.test(rest)) {
    return fail(problem(
      "a 64-digit hexadecimal string is an image ID, not a repository name",
    ));
  }
  if (/[\s\0]/.test(rest)) return fail(problem("it contains white space"));

  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const why = digestProblem(digest);
    if (why !== undefined) return fail(problem(why));
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      return fail(problem(
        `tag "${tag}" is not 1 to 128 letters, digits, "_", "." or "-" ` +
          `(not starting with "." or "-")`,
      ));
    }
  }
  if (rest === "") return fail(problem("the repository name is missing"));

  let [registry, path] = splitDomain(rest);
  if (!DOMAIN_RE.test(registry)) {
    return fail(problem(`"${registry}" is not a valid registry host[:port]`));
  }
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;

  for (const component of path.split("/")) {
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (PATH_COMPONENT_RE.test(component.toLowerCase())) {
      return fail(problem("the repository name must be lowercase"));
    }
    return fail(problem(
      component === ""
        ? 'the repository name has an empty component (check the "/")'
        : `"${component}" is not a valid repository name component ` +
          `(lowercase letters and digits, separated by ".", "_", "__" or "-")`,
    ));
  }
  if (registry.length + 1 + path.length > NAME_MAX) {
    return fail(problem(
      `the repository name is longer than ${NAME_MAX} characters`,
    ));
  }

  const ref: ImageReference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  else if (digest === undefined) ref.tag = DEFAULT_TAG;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * The canonical string of a reference:
 * `REGISTRY/REPOSITORY[:TAG][@DIGEST]`. Pure.
 */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}` +
    (ref.tag === undefined ? "" : `:${ref.tag}`) +
    (ref.digest === undefined ? "" : `@${ref.digest}`);
}

/**
 * What the registry is asked for: the digest when pinned, else the tag. Pure.
 */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** Splits off the domain as docker's `splitDockerDomain` does. */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf("/");
  if (slash < 0) return [DOCKER_HUB, name];
  const first = name.slice(0, slash);
  const isDomain = /[.:]/.test(first) || first === "localhost" ||
    first.toLowerCase() !== first;
  return isDomain ? [first, name.slice(slash + 1)] : [DOCKER_HUB, name];
}

function fail(error: UsageError): never {
  throw error;
}
