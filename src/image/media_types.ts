/**
 * Media types of the OCI image spec and Docker's schema 2, and what polythene
 * does with each: which manifests it accepts, which configs are container
 * images, and how a layer is compressed.
 *
 * ```ts
 * layerCompression(MediaType.OciLayerZstd); // "zstd"
 * ```
 *
 * Pure: no I/O, no permissions.
 *
 * @module
 */

/** The media types polythene knows by name. */
export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistributable:
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OciLayerNondistributableGzip:
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OciLayerNondistributableZstd:
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList:
    "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerLayerForeignGzip:
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  /** containerd's name; Docker schema 2 itself defines only gzip. */
  DockerLayerZstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
  /** containers/image's name for an uncompressed schema 2 layer. */
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  DockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  DockerSchema1Signed:
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** The `Accept` header for manifests: the four schema 2 / OCI types. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(", ");

/** What a manifest document is. */
export type ManifestKind = "manifest" | "index";

/**
 * Classifies a manifest media type: `"manifest"`, `"index"`, `"schema1"`
 * (refused), or undefined when unknown. Parameters such as `; charset=` are
 * ignored. Pure.
 */
export function manifestKind(
  mediaType: string,
): ManifestKind | "schema1" | undefined {
  switch (bareType(mediaType)) {
    case MediaType.OciManifest:
    case MediaType.DockerManifest:
      return "manifest";
    case MediaType.OciIndex:
    case MediaType.DockerManifestList:
      return "index";
    case MediaType.DockerSchema1:
    case MediaType.DockerSchema1Signed:
      return "schema1";
  }
  return undefined;
}

/** Whether a config media type is a container image's config. Pure. */
export function isImageConfig(mediaType: string): boolean {
  const type = bareType(mediaType);
  return type === MediaType.OciConfig || type === MediaType.DockerConfig;
}

/** How a layer blob is compressed. */
export type Compression = "gzip" | "zstd" | "none";

/** Why a layer cannot be used. */
export class UnsupportedLayerError extends Error {
  /** The layer's media type. */
  readonly mediaType: string;

  constructor(mediaType: string, why: string) {
    super(`layer media type "${mediaType}" ${why}`);
    this.name = "UnsupportedLayerError";
    this.mediaType = mediaType;
  }
}

/**
 * The compression of a layer with this media type. Pure.
 *
 * @throws {UnsupportedLayerError} for encrypted layers (`+encrypted`) and
 * media types that are not tar layers.
 */
export function layerCompression(mediaType: string): Compression {
  const type = bareType(mediaType);
  if (type.includes("+encrypted")) {
    throw new UnsupportedLayerError(
      mediaType,
      "is encrypted; polythene cannot decrypt layers",
    );
  }
  switch (type) {
    case MediaType.OciLayer:
    case MediaType.OciLayerNondistributable:
    case MediaType.DockerLayer:
      return "none";
    case MediaType.OciLayerGzip:
    case MediaType.OciLayerNondistributableGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerLayerForeignGzip:
      return "gzip";
    case MediaType.OciLayerZstd:
    case MediaType.OciLayerNondistributableZstd:
    case MediaType.DockerLayerZstd:
      return "zstd";
  }
  throw new UnsupportedLayerError(mediaType, "is not a supported tar layer");
}

/** The media type without parameters, lower-cased. Pure. */
export function bareType(mediaType: string): string {
  return (mediaType.split(";")[0] ?? "").trim().toLowerCase();
}
