/**
 * The committed image's config and manifest, and the `--change` edits.
 * Pure.
 *
 * @module
 */

import { UsageError } from "../../errors.ts";
import { MediaType } from "../media_types.ts";
import type { ImageConfig, Platform } from "../types.ts";

/** One `--change` edit. */
export type Change =
  | { kind: "env"; name: string; value: string }
  | { kind: "workdir"; path: string };

/**
 * Parses a `--change` value: `ENV=NAME=VALUE` (or `ENV NAME=VALUE`) and
 * `WORKDIR=/path` (or `WORKDIR /path`). Pure.
 *
 * @throws {UsageError} for anything else.
 */
export function parseChange(text: string): Change {
  const match = /^(ENV|WORKDIR)[= ](.*)$/s.exec(text);
  const bad = (why: string) =>
    new UsageError(`Invalid --change "${text}": ${why}`, "commit");
  if (match === null) {
    throw bad("use ENV=NAME=VALUE or WORKDIR=/path");
  }
  const rest = match[2]!;
  if (match[1] === "WORKDIR") {
    if (!rest.startsWith("/")) throw bad("WORKDIR must be an absolute path");
    return { kind: "workdir", path: rest };
  }
  const eq = rest.indexOf("=");
  const name = eq < 0 ? rest : rest.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw bad(`"${name}" is not a variable name`);
  }
  return { kind: "env", name, value: eq < 0 ? "" : rest.slice(eq + 1) };
}

/** `Env` with `NAME=VALUE` set (replacing an earlier NAME). Pure. */
export function setEnv(
  env: readonly string[],
  name: string,
  value: string,
): string[] {
  const out = env.filter((line) => !line.startsWith(`${name}=`));
  out.push(`${name}=${value}`);
  return out;
}

/** The base a commit starts from. */
export interface ConfigBase {
  /** The base config as stored (all fields kept), when known. */
  config?: Record<string, unknown>;
  /** The runtime config the entry's metadata recorded. */
  runtime?: ImageConfig["config"];
  /** The entry's platform. */
  platform?: Platform;
}

/** A config history item. */
interface History {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * The new image's config: the base's, with the runtime edits applied, the
 * new layer's `diff_id` appended and a history item for the commit. Pure.
 */
export function commitConfig(
  base: ConfigBase,
  edits: {
    changes: readonly Change[];
    message?: string;
    diffId: string;
    created: string;
    uuid: string;
  },
): Record<string, unknown> {
  const old = base.config ?? {};
  const runtime: NonNullable<ImageConfig["config"]> = {
    ...((old.config as ImageConfig["config"]) ?? base.runtime ?? {}),
  };
  for (const change of edits.changes) {
    if (change.kind === "workdir") runtime.WorkingDir = change.path;
    else runtime.Env = setEnv(runtime.Env ?? [], change.name, change.value);
  }
  const rootfs = old.rootfs as ImageConfig["rootfs"] | undefined;
  const history = Array.isArray(old.history) ? old.history as History[] : [];
  const platform = base.platform ?? {
    os: (old.os as string | undefined) ?? "linux",
    architecture: (old.architecture as string | undefined) ?? "amd64",
  };
  const item: History = {
    created: edits.created,
    created_by: `polythene commit ${edits.uuid}`,
  };
  if (edits.message !== undefined) item.comment = edits.message;
  return {
    ...old,
    created: edits.created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: runtime,
    rootfs: {
      type: "layers",
      diff_ids: [...(rootfs?.diff_ids ?? []), edits.diffId],
    },
    history: [...history, item],
  };
}

/** A blob descriptor. */
export interface BlobDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/**
 * The OCI media type of a layer blob of type `mediaType`: Docker schema 2
 * names become the OCI names of the same bytes. Pure.
 */
export function ociLayerType(mediaType: string): string {
  switch (mediaType) {
    case MediaType.DockerLayerGzip:
      return MediaType.OciLayerGzip;
    case MediaType.DockerLayerZstd:
      return MediaType.OciLayerZstd;
    case MediaType.DockerLayer:
      return MediaType.OciLayer;
    default:
      return mediaType;
  }
}

/** The OCI image manifest of `config` and `layers`. Pure. */
export function imageManifest(
  config: BlobDescriptor,
  layers: readonly BlobDescriptor[],
): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { ...config, mediaType: MediaType.OciConfig },
    layers: layers.map((layer) => ({
      mediaType: ociLayerType(layer.mediaType),
      digest: layer.digest,
      size: layer.size,
    })),
  };
}
