/**
 * Types of the OCI image and distribution specs that polythene reads.
 *
 * @module
 */

/** `os/architecture[/variant]`. */
export interface Platform {
  /** e.g. `linux`. */
  os: string;
  /** GOARCH, e.g. `amd64`, `arm64`. */
  architecture: string;
  /** e.g. `v8` for arm64, `v7` for arm. */
  variant?: string;
}

/** A content descriptor. */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** `sha256:<hex>`. */
  digest: string;
  /** Size in bytes. */
  size: number;
  /** Platform, in index entries. */
  platform?: Platform;
  /** Annotations. */
  annotations?: Record<string, string>;
  /** Alternative download locations (foreign layers); never followed. */
  urls?: string[];
}

/** A normalised image reference. */
export interface ImageReference {
  /** Registry host[:port], e.g. `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path, e.g. `library/busybox`. */
  repository: string;
  /** Tag, when given or defaulted (`latest`). */
  tag?: string;
  /** `sha256:<hex>`, when pinned. */
  digest?: string;
}

/** The subset of the image config that polythene records. */
export interface ImageConfig {
  /** Platform of the image. */
  os?: string;
  /** Architecture of the image. */
  architecture?: string;
  /** Variant of the image. */
  variant?: string;
  /** Runtime configuration. */
  config?: {
    Env?: string[];
    WorkingDir?: string;
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Labels?: Record<string, string> | null;
  };
  /** Uncompressed layer digests, in order. */
  rootfs?: { type: string; diff_ids: string[] };
}

/** An image manifest (OCI, or Docker schema 2). */
export interface ImageManifest {
  /** Always 2. */
  schemaVersion: number;
  /** The manifest's media type, when it states it. */
  mediaType?: string;
  /** The image config blob. */
  config: Descriptor;
  /** Layers, base first. */
  layers: Descriptor[];
  /** Annotations. */
  annotations?: Record<string, string>;
}

/** An image index (OCI), or a Docker manifest list. */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: number;
  /** The index's media type, when it states it. */
  mediaType?: string;
  /** One entry per platform image (and attestations). */
  manifests: Descriptor[];
  /** Annotations. */
  annotations?: Record<string, string>;
}
