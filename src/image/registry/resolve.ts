/**
 * From a reference to everything needed to fetch the layers: index →
 * platform → manifest → config, each verified.
 *
 * @module
 */

import { layerCompression, UnsupportedLayerError } from "../media_types.ts";
import {
  formatPlatform,
  NoMatchingPlatformError,
  normalizePlatform,
  platformMatches,
  selectManifest,
} from "../platform.ts";
import { digestProblem, formatReference } from "../reference.ts";
import type {
  Descriptor,
  ImageConfig,
  ImageManifest,
  ImageReference,
  Platform,
} from "../types.ts";
import type { RegistryClient } from "./client.ts";
import { RegistryError } from "./registry_error.ts";

/** A resolved image: verified manifest and config, and its layers. */
export interface ResolvedImage {
  /** Digest of the platform image's manifest. */
  manifestDigest: string;
  /** Digest of the index it was selected from, when there was one. */
  indexDigest?: string;
  /** The manifest's media type. */
  mediaType: string;
  /** The manifest. */
  manifest: ImageManifest;
  /** The manifest exactly as served. */
  manifestBytes: Uint8Array;
  /** The parsed config. */
  config: ImageConfig;
  /** The config exactly as served (verified against its digest). */
  configBytes: Uint8Array;
  /** The layers, base first; every media type is a supported tar layer. */
  layers: Descriptor[];
  /** The image's platform (from its config, else its index entry). */
  platform: Platform;
}

/**
 * Resolves `ref` for `platform`: fetches the manifest; when it is an index,
 * selects the platform's entry (variant honoured, attestations skipped) and
 * fetches that manifest by digest; then fetches the config. Every layer's
 * media type is checked before anything is downloaded, and the config must
 * list one diff_id per layer.
 *
 * @throws {RegistryError} naming the image: not found, no such platform
 * (listing those that exist), a single-platform image for another
 * platform, unsupported or encrypted layers, digest or size mismatches.
 */
export async function resolveImage(
  client: RegistryClient,
  ref: ImageReference,
  platform: Platform,
): Promise<ResolvedImage> {
  const image = formatReference(ref);
  const want = normalizePlatform(platform);
  const top = await client.getManifest(ref);
  let fetched = top;
  let entryPlatform: Platform | undefined;
  if (top.kind === "index") {
    let entry: Descriptor;
    try {
      entry = selectManifest(top.index, want);
    } catch (error) {
      if (!(error instanceof NoMatchingPlatformError)) throw error;
      throw new RegistryError(image, error.message, {
        kind: "platform",
        cause: error,
        hint: "Choose one with --platform",
      });
    }
    fetched = await client.getManifest(ref, {
      reference: entry.digest,
      expected: entry,
    });
    if (fetched.kind !== "manifest") {
      throw new RegistryError(
        image,
        `the index entry for ${
          formatPlatform(want)
        } is itself an index; nested indexes are not supported`,
        { kind: "unsupported" },
      );
    }
    entryPlatform = entry.platform;
  }
  if (fetched.kind !== "manifest") throw new TypeError("unreachable");
  const manifest = fetched.manifest;

  for (const layer of manifest.layers) {
    try {
      layerCompression(layer.mediaType);
    } catch (error) {
      if (!(error instanceof UnsupportedLayerError)) throw error;
      throw new RegistryError(
        image,
        `layer ${layer.digest}: ${error.message}`,
        { kind: "unsupported", cause: error },
      );
    }
  }

  const { config, bytes: configBytes } = await client.getConfig(
    ref,
    manifest.config,
  );
  const configPlatform = config.os && config.architecture
    ? normalizePlatform({
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    })
    : undefined;
  if (
    top.kind === "manifest" && configPlatform !== undefined &&
    !platformMatches(configPlatform, want)
  ) {
    throw new RegistryError(
      image,
      `the image is for ${formatPlatform(configPlatform)}, not ${
        formatPlatform(want)
      }`,
      {
        kind: "platform",
        hint: `it is built for ${
          formatPlatform(configPlatform)
        } only: use an image built for ${formatPlatform(want)}, or --platform ${
          formatPlatform(configPlatform)
        } to take this one`,
      },
    );
  }
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new RegistryError(
      image,
      `config ${manifest.config.digest} lists ${
        Array.isArray(diffIds) ? diffIds.length : "no"
      } diff_ids for ${manifest.layers.length} layers`,
      { kind: "protocol" },
    );
  }
  for (const diffId of diffIds) {
    const problem = typeof diffId === "string"
      ? digestProblem(diffId)
      : "not a string";
    if (problem !== undefined) {
      throw new RegistryError(
        image,
        `config ${manifest.config.digest} has an invalid diff_id: ${problem}`,
        { kind: "protocol" },
      );
    }
  }

  const resolved: ResolvedImage = {
    manifestDigest: fetched.digest,
    mediaType: fetched.mediaType,
    manifest,
    manifestBytes: fetched.bytes,
    config,
    configBytes,
    layers: manifest.layers,
    platform: configPlatform ??
      (entryPlatform ? normalizePlatform(entryPlatform) : want),
  };
  if (top.kind === "index") resolved.indexDigest = top.digest;
  return resolved;
}
