/**
 * Checks of a fetched manifest document: JSON, schema version, media type
 * (schema 1 refused), and every descriptor's digest, size and platform.
 *
 * @module
 */

import { type ManifestKind, manifestKind } from "../media_types.ts";
import { digestProblem } from "../reference.ts";
import type { ImageIndex, ImageManifest } from "../types.ts";
import type { FetchedManifest } from "./client.ts";
import { oneLine, RegistryError } from "./registry_error.ts";

/** Parses and checks a fetched manifest document. */
export function parseManifest(
  image: string,
  label: string,
  bytes: Uint8Array,
  digest: string,
  contentType: string,
): FetchedManifest {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    document = undefined;
  }
  if (typeof document !== "object" || document === null) {
    if (manifestKind(contentType) === "schema1") throw schema1(image);
    throw new RegistryError(image, `${label} is not a JSON object`, {
      kind: "protocol",
    });
  }
  const record = document as Record<string, unknown>;
  const declared = typeof record.mediaType === "string"
    ? record.mediaType
    : undefined;
  if (
    record.schemaVersion === 1 ||
    manifestKind(declared ?? contentType) === "schema1"
  ) {
    throw schema1(image);
  }
  const mediaType = declared ?? contentType;
  let kind: ManifestKind | "schema1" | undefined = manifestKind(mediaType);
  if (kind === undefined && declared === undefined) {
    if (Array.isArray(record.manifests)) kind = "index";
    else if (Array.isArray(record.layers)) kind = "manifest";
  }
  if (kind === undefined || kind === "schema1") {
    throw new RegistryError(
      image,
      `${label} has media type "${
        oneLine(mediaType, 100)
      }", which is neither an image manifest nor an index`,
      { kind: "unsupported" },
    );
  }
  if (record.schemaVersion !== 2) {
    throw new RegistryError(
      image,
      `${label} has schemaVersion ${
        JSON.stringify(record.schemaVersion)
      }, not 2`,
      { kind: "unsupported" },
    );
  }
  const bad = (why: string) =>
    new RegistryError(image, `${label} is malformed: ${why}`, {
      kind: "protocol",
    });
  if (kind === "index") {
    if (!Array.isArray(record.manifests)) throw bad("no manifests array");
    record.manifests.forEach((entry, i) =>
      checkDescriptor(entry, `manifests[${i}]`, bad)
    );
    return {
      kind,
      digest,
      mediaType,
      bytes,
      index: document as ImageIndex,
    };
  }
  checkDescriptor(record.config, "config", bad);
  if (!Array.isArray(record.layers)) throw bad("no layers array");
  record.layers.forEach((entry, i) =>
    checkDescriptor(entry, `layers[${i}]`, bad)
  );
  return {
    kind,
    digest,
    mediaType,
    bytes,
    manifest: document as ImageManifest,
  };
}

export function checkDescriptor(
  value: unknown,
  where: string,
  bad: (why: string) => Error,
): void {
  if (typeof value !== "object" || value === null) {
    throw bad(`${where} is not a descriptor`);
  }
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== "string") throw bad(`${where} has no mediaType`);
  if (typeof d.digest !== "string") throw bad(`${where} has no digest`);
  const problem = digestProblem(d.digest);
  if (problem !== undefined) throw bad(`${where}: ${problem}`);
  if (
    typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0
  ) {
    throw bad(`${where} has an invalid size`);
  }
  if (
    d.platform !== undefined &&
    (typeof d.platform !== "object" || d.platform === null ||
      typeof (d.platform as Record<string, unknown>).os !== "string" ||
      typeof (d.platform as Record<string, unknown>).architecture !== "string")
  ) {
    throw bad(`${where} has an invalid platform`);
  }
}

export function schema1(image: string): RegistryError {
  return new RegistryError(
    image,
    "the image has a Docker schema 1 manifest, which polythene does not support",
    {
      kind: "unsupported",
      hint: "Push the image again with a current docker, podman or skopeo",
    },
  );
}
