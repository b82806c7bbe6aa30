/**
 * Platforms (`os/arch[/variant]`): this host's, the `--platform` option, and
 * picking the matching manifest out of an image index.
 *
 * ```ts
 * const want = parsePlatform("linux/arm64"); // variant v8 implied
 * const entry = selectManifest(index, want);
 * ```
 *
 * Pure, except {@linkcode hostPlatform}'s default argument (`Deno.build`,
 * which needs no permission).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { escapeControl } from "../escape.ts";
import type { Descriptor, ImageIndex, Platform } from "./types.ts";

/** Deno's build triple parts, as in `Deno.build`. */
export interface BuildInfo {
  /** e.g. `linux`. */
  os: string;
  /** e.g. `x86_64`, `aarch64`. */
  arch: string;
}

/**
 * The platform of this host, in OCI terms: `x86_64` is `amd64`, `aarch64` is
 * `arm64` with variant `v8`.
 */
export function hostPlatform(build: BuildInfo = Deno.build): Platform {
  return normalizePlatform({ os: build.os, architecture: build.arch });
}

/**
 * Parses `OS/ARCH[/VARIANT]` (the `--platform` value), normalising the
 * architecture as containerd does (`x86_64` → `amd64`, `aarch64` → `arm64`,
 * `armhf` → `arm/v7`, arm64's variant → `v8` when unset).
 *
 * @throws {UsageError} (exit 2) naming the text when it is not of that form.
 */
export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  const valid = parts.length >= 2 && parts.length <= 3 &&
    parts.every((part) => /^[A-Za-z0-9_.-]+$/.test(part));
  const [os, architecture, variant] = parts;
  if (!valid || os === undefined || architecture === undefined) {
    throw new UsageError(
      `Invalid platform "${text}": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8`,
      "pull",
    );
  }
  return normalizePlatform(
    variant === undefined
      ? { os, architecture }
      : { os, architecture, variant },
  );
}

/** `os/arch[/variant]`. Pure. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant]
    .filter((part) => part !== undefined && part !== "").join("/");
}

/**
 * The canonical form used for comparison: lower-case os, GOARCH names, and
 * the default variant made explicit (`arm64` → `v8`, `arm` → `v7`) or dropped
 * (`amd64/v1`). Pure.
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = undefined;
      break;
    case "i386":
    case "i686":
    case "386":
      architecture = "386";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === undefined || variant === "8" || variant === "v8.0") {
        variant = "v8";
      } else if (/^[0-9]/.test(variant)) variant = `v${variant}`;
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === undefined) variant = "v7";
      else if (/^[0-9]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant === undefined
    ? { os, architecture }
    : { os, architecture, variant };
}

/** Whether `have` (an index entry's platform) satisfies `want`. Pure. */
export function platformMatches(have: Platform, want: Platform): boolean {
  const a = normalizePlatform(have);
  const b = normalizePlatform(want);
  return a.os === b.os && a.architecture === b.architecture &&
    a.variant === b.variant;
}

/**
 * Whether an index entry is not an image for some platform: buildkit's
 * attestation manifests (`unknown/unknown`) and the like. Pure.
 */
export function isAttestation(entry: Descriptor): boolean {
  return entry.annotations?.["vnd.docker.reference.type"] ===
      "attestation-manifest" ||
    (entry.platform?.os === "unknown" &&
      entry.platform?.architecture === "unknown");
}

/** No entry of an index matches the wanted platform. */
export class NoMatchingPlatformError extends Error {
  /** The platforms the index offers (attestations left out). */
  readonly available: readonly Platform[];
  /** The platform asked for. */
  readonly wanted: Platform;

  constructor(wanted: Platform, available: readonly Platform[]) {
    super(
      `no image for ${formatPlatform(wanted)}; the index has ${
        available.length === 0
          ? "no platform images"
          : available.map(formatPlatform).join(", ")
      }`,
    );
    this.name = "NoMatchingPlatformError";
    this.wanted = wanted;
    this.available = available;
  }
}

/**
 * Picks the index entry for `want`: the first one, in index order, whose
 * os, architecture and (normalised) variant match. Attestation entries are
 * skipped. Entries without a platform are skipped.
 *
 * @throws {NoMatchingPlatformError} listing the platforms that exist.
 */
export function selectManifest(
  index: Pick<ImageIndex, "manifests">,
  want: Platform,
): Descriptor {
  const available: Platform[] = [];
  for (const entry of index.manifests) {
    if (isAttestation(entry) || entry.platform === undefined) continue;
    if (platformMatches(entry.platform, want)) return entry;
    available.push(entry.platform);
  }
  throw new NoMatchingPlatformError(normalizePlatform(want), available);
}

/**
 * Why an image whose own config says `recorded` may not be kept when `want`
 * was asked for (the `--platform` value, else the host's), or undefined when
 * it may. Only the architecture counts, as it does for `exec`'s emulation
 * (`386` taken for `amd64`, which the kernel runs natively): the platform
 * pull records decides whether `exec` runs the entry through qemu, and on a
 * host whose kernel cannot, only on proot, so an image that lists itself
 * under the host's platform in an index, or a single-platform archive, must
 * not record another one. Pure.
 */
export function recordedPlatformProblem(
  recorded: Platform | undefined,
  want: Platform,
): string | undefined {
  if (recorded === undefined) return undefined;
  const have = normalizePlatform(recorded);
  const asked = normalizePlatform(want);
  if (have.architecture === asked.architecture) return undefined;
  if (have.architecture === "386" && asked.architecture === "amd64") {
    return undefined;
  }
  return `the image is for ${escapeControl(formatPlatform(have))}, not ${
    formatPlatform(asked)
  }`;
}
