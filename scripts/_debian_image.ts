/**
 * Pure helpers behind `scripts/debian_image.ts`: which Debian mirror apt is
 * configured with, the argv of `debootstrap` and `tar`, the image config,
 * which mounts sit under a build tree, and reading the cache's metadata.
 *
 * @example
 * ```ts
 * const mirror = aptMirror([{
 *   path: "/etc/apt/sources.list.d/debian.sources",
 *   text: "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n",
 * }], "bookworm");
 * console.log(mirror); // "http://deb.debian.org/debian"
 * ```
 *
 * @module
 */

import type { Platform } from "../src/image/types.ts";

/** The suite and variant of the cached image. */
export const SUITE = "bookworm";
/** debootstrap's variant: essential packages plus apt. */
export const VARIANT = "minbase";
/** PATH of the image config, as Debian's official images set it. */
export const IMAGE_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** One apt sources file and its text. */
export interface SourcesFile {
  /** Its path, which says its format (`.list` or `.sources`). */
  path: string;
  /** Its contents. */
  text: string;
}

/**
 * The URI of the first `deb` source apt is configured with for `suite`, in
 * apt's own reading order (the caller passes `/etc/apt/sources.list` first,
 * then `sources.list.d/` sorted by name). One-line `.list` entries
 * (`deb [opts] URI SUITE COMPONENTS`) and deb822 `.sources` stanzas
 * (`Types`, `URIs`, `Suites`, `Enabled`) are read; files with any other
 * name are ignored, as apt ignores them.
 *
 * @returns The URI without trailing slashes, or undefined when none serves
 * `suite`.
 */
export function aptMirror(
  files: readonly SourcesFile[],
  suite: string,
): string | undefined {
  for (const file of files) {
    const uri = file.path.endsWith(".sources")
      ? deb822Mirror(file.text, suite)
      : file.path.endsWith(".list")
      ? oneLineMirror(file.text, suite)
      : undefined;
    if (uri !== undefined) return uri.replace(/\/+$/, "");
  }
  return undefined;
}

function oneLineMirror(text: string, suite: string): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    // `[ opt=val opt=val ]` may contain spaces; drop it whole.
    const words = line.replace(/\[[^\]]*\]/, " ").split(/\s+/).filter(Boolean);
    if (words[0] !== "deb" || words.length < 3) continue;
    if (words[2] === suite) return words[1];
  }
  return undefined;
}

function deb822Mirror(text: string, suite: string): string | undefined {
  const stanzas = text.split(/\n[ \t]*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^[ \t]/.test(raw) && last !== undefined) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const colon = raw.indexOf(":");
      if (colon <= 0) continue;
      last = raw.slice(0, colon).trim().toLowerCase();
      fields.set(last, raw.slice(colon + 1).trim());
    }
    const words = (name: string) =>
      (fields.get(name) ?? "").split(/\s+/).filter(Boolean);
    if (fields.get("enabled")?.toLowerCase() === "no") continue;
    if (!words("types").includes("deb")) continue;
    if (!words("suites").includes(suite)) continue;
    const uri = words("uris")[0];
    if (uri !== undefined) return uri;
  }
  return undefined;
}

/**
 * `debootstrap --variant=minbase SUITE ROOT MIRROR`; for a foreign `arch`
 * (a Debian architecture name such as `arm64`), its first stage only
 * (`--foreign --arch=ARCH`): {@linkcode secondStageArgv} finishes it.
 */
export function debootstrapArgv(
  root: string,
  mirror: string,
  arch?: string,
): string[] {
  const foreign = arch === undefined ? [] : ["--foreign", `--arch=${arch}`];
  return [
    "debootstrap",
    ...foreign,
    `--variant=${VARIANT}`,
    SUITE,
    root,
    mirror,
  ];
}

/**
 * debootstrap's second stage inside a foreign `root`, under proot with
 * qemu-user (`-q`), so that no binfmt_misc entry is registered on the host.
 */
export function secondStageArgv(
  proot: string,
  qemu: string,
  root: string,
): string[] {
  return [
    proot,
    "-0",
    "-q",
    qemu,
    "-r",
    root,
    "-b",
    "/proc",
    "-b",
    "/sys",
    "-b",
    "/dev",
    "-w",
    "/",
    "/debootstrap/debootstrap",
    "--second-stage",
  ];
}

/**
 * `tar` writing the tree at `root` to stdout as one uncompressed layer:
 * PAX format, numeric owners, `security.capability` xattrs, members sorted
 * by name, PAX headers without the pid, atime or ctime (so two packs of
 * one tree are byte-identical), never crossing into another filesystem.
 * Members are named `bin`, `etc/passwd`, ... with no `./`, as OCI layers
 * usually are.
 *
 * @param members The entries of `root` itself, in any order.
 */
export function tarArgv(root: string, members: readonly string[]): string[] {
  return [
    "tar",
    "--create",
    "--file=-",
    "--format=pax",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=security.capability",
    "--sort=name",
    "--one-file-system",
    `--directory=${root}`,
    "--",
    ...[...members].sort(),
  ];
}

/** What the cache records beside the layer. */
export interface DebianImageMetadata {
  /** Always 1. */
  version: 1;
  /** `bookworm`. */
  suite: string;
  /** `minbase`. */
  variant: string;
  /** The mirror debootstrap used; the image's sources.list points at it. */
  mirror: string;
  /** The image's platform (debootstrap builds the host's). */
  platform: Platform;
  /** The layer blob's digest, `sha256:<hex>` of the `.tar.gz`. */
  digest: string;
  /** The `.tar.gz` size in bytes. */
  size: number;
  /** The diff_id, `sha256:<hex>` of the uncompressed tar. */
  diffId: string;
  /** The uncompressed tar's size in bytes. */
  tarSize: number;
  /** When the image was built (ISO 8601). */
  created: string;
  /** How long `debootstrap` took, in seconds. */
  debootstrapSeconds: number;
  /** How long packing and hashing took, in seconds. */
  packSeconds: number;
  /** Whether the host's /etc/resolv.conf was copied into the image. */
  resolvConfFromHost: boolean;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Reads the cache's metadata file.
 *
 * @returns The metadata, or undefined when `text` is not a complete,
 * well-formed record (the caller then rebuilds).
 */
export function parseMetadata(text: string): DebianImageMetadata | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const m = value as Record<string, unknown>;
  const platform = m.platform as Record<string, unknown> | undefined;
  const ok = m.version === 1 &&
    m.suite === SUITE &&
    m.variant === VARIANT &&
    typeof m.mirror === "string" &&
    typeof platform === "object" && platform !== null &&
    typeof platform.os === "string" &&
    typeof platform.architecture === "string" &&
    typeof m.digest === "string" && DIGEST.test(m.digest) &&
    typeof m.diffId === "string" && DIGEST.test(m.diffId) &&
    Number.isSafeInteger(m.size) && (m.size as number) > 0 &&
    Number.isSafeInteger(m.tarSize) && (m.tarSize as number) > 0 &&
    typeof m.created === "string" &&
    typeof m.debootstrapSeconds === "number" &&
    typeof m.packSeconds === "number" &&
    typeof m.resolvConfFromHost === "boolean";
  return ok ? value as DebianImageMetadata : undefined;
}

/**
 * The image config's content: platform, `Env` with PATH, `Cmd ["bash"]`,
 * and the one layer's diff_id.
 */
export function imageConfig(meta: DebianImageMetadata): {
  created: string;
  architecture: string;
  os: string;
  variant?: string;
  config: { Env: string[]; Cmd: string[] };
  rootfs: { type: "layers"; diff_ids: string[] };
  history: { created: string; created_by: string }[];
} {
  return {
    created: meta.created,
    architecture: meta.platform.architecture,
    os: meta.platform.os,
    ...(meta.platform.variant ? { variant: meta.platform.variant } : {}),
    config: { Env: [`PATH=${IMAGE_PATH}`], Cmd: ["bash"] },
    rootfs: { type: "layers", diff_ids: [meta.diffId] },
    history: [{
      created: meta.created,
      created_by:
        `debootstrap --variant=${meta.variant} ${meta.suite} ROOT ${meta.mirror}`,
    }],
  };
}

/**
 * The mount points at or under `root` in a `/proc/self/mountinfo` text,
 * deepest first (the order to unmount them in). Octal escapes such as
 * `\040` in mount points are decoded.
 */
export function mountsUnder(mountinfo: string, root: string): string[] {
  const base = root.replace(/\/+$/, "");
  const found: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const point = line.split(" ")[4];
    if (point === undefined) continue;
    const path = point.replace(
      /\\([0-7]{3})/g,
      (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
    );
    if (path === base || path.startsWith(`${base}/`)) found.push(path);
  }
  return found.sort((a, b) => b.length - a.length || b.localeCompare(a));
}
