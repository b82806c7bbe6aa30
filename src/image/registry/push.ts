/**
 * Pushes an image from an OCI image layout to a registry: every blob the
 * manifest (or, for an index, each child manifest) names, by
 * {@linkcode uploadBlob}, then the child manifests by digest, then the top
 * manifest by the destination's tag. Manifests go up byte for byte with
 * their own media type, so the digest the registry reports is the local
 * one; a registry that reports another is an error.
 *
 * ```ts
 * import { pushImage } from "./push.ts";
 * const result = await pushImage(
 *   "/var/tmp/polythene/.polythene/images",
 *   "sha256:...",
 *   "ghcr.io/me/provisioned:1",
 *   { tlsVerify: true },
 * );
 * console.log(result.digest);
 * ```
 *
 * Permissions: `--allow-read` of the layout; the rest as
 * `push_connection.ts`.
 *
 * @module
 */

import {
  type ProgressReporter,
  SILENT_PROGRESS,
  skipItem,
} from "../../progress.ts";
import { manifestKind } from "../media_types.ts";
import {
  digestProblem,
  formatReference,
  parseReference,
} from "../reference.ts";
import type { Descriptor, ImageReference } from "../types.ts";
import {
  PushConnection,
  type PushConnectionOptions,
} from "./push_connection.ts";
import { asPushError, PushError } from "./push_error.ts";
import {
  BASE_NAME_ANNOTATION,
  documentNeeds,
  type IndexNeeds,
  type ManifestNeeds,
  mountSource,
  pushScopes,
  uniqueByDigest,
} from "./push_plan.ts";
import {
  type BlobOutcome,
  type BlobSource,
  uploadBlob,
} from "./push_upload.ts";
import { RegistryError } from "./registry_error.ts";
import { statusError } from "./_http.ts";

/** The largest manifest pushed: 4 MiB, as pull reads. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Options of {@linkcode pushImage}. */
export interface PushImageOptions extends PushConnectionOptions {
  /**
   * Where the image's base was pulled from: blobs are mounted from it when
   * it is another repository of the destination's registry. Default: the
   * manifest's `org.opencontainers.image.base.name` annotation.
   */
  base?: ImageReference;
  /** Upload chunk size; default 16 MiB. */
  chunkBytes?: number;
  /** Told as each blob starts and ends (`src/progress.ts`). */
  progress?: ProgressReporter;
}

/** What {@linkcode pushImage} did. */
export interface PushResult {
  /** The pushed manifest's digest, as the registry confirmed it. */
  digest: string;
  /** Its media type. */
  mediaType: string;
  /** `REGISTRY/REPOSITORY:TAG@DIGEST`. */
  pushed: string;
  /** How many blobs were already there, mounted, uploaded. */
  blobs: Record<BlobOutcome, number>;
}

/**
 * Pushes the manifest or index `manifestDigest` of the OCI layout at
 * `layout` to `dest` (`HOST/REPO[:TAG]`; a `@DIGEST` in it must be the
 * manifest's).
 *
 * @throws {PushError} (exit 1) naming the destination and what failed: a
 * blob missing from the layout, the registry refusing a blob or manifest,
 * the connection lost beyond the retries; {UsageError} for a malformed
 * `dest`
 */
export async function pushImage(
  layout: string,
  manifestDigest: string,
  dest: string | ImageReference,
  options: PushImageOptions = {},
): Promise<PushResult> {
  const ref = typeof dest === "string" ? parseReference(dest) : dest;
  const image = formatReference(ref);
  const local = new LayoutReader(layout, image);
  const top = await local.document(manifestDigest);
  if (ref.digest !== undefined && ref.digest !== manifestDigest) {
    throw new PushError(
      image,
      `the destination names ${ref.digest}, but the image is ${manifestDigest}`,
      { kind: "digest", hint: "Leave the digest out of the destination" },
    );
  }
  const base = options.base ?? baseOf(top.document);
  const mountFrom = mountSource(ref, base);
  const result: PushResult = {
    digest: manifestDigest,
    mediaType: top.mediaType,
    pushed: "",
    blobs: { exists: 0, mounted: 0, uploaded: 0 },
  };
  let connection: PushConnection | undefined;
  try {
    connection = await PushConnection.open(
      ref,
      image,
      pushScopes(ref.repository, mountFrom),
      options,
    );
    const children = top.kind === "index"
      ? await Promise.all(
        (top.needs as IndexNeeds).manifests.map((d) =>
          local.document(d.digest)
        ),
      )
      : [];
    const manifests = top.kind === "index" ? children : [top];
    const blobs = uniqueByDigest(
      manifests.flatMap((m) =>
        m.kind === "manifest" ? (m.needs as ManifestNeeds).blobs : []
      ),
    );
    const progress = options.progress ?? SILENT_PROGRESS;
    for (const [i, descriptor] of blobs.entries()) {
      progress.start(
        `blob ${i + 1}/${blobs.length} ${descriptor.digest.slice(0, 19)}`,
        descriptor.size,
      );
      const outcome = await uploadBlob(
        connection,
        await local.blob(descriptor),
        {
          mountFrom,
          chunkBytes: options.chunkBytes,
          onSent: (bytes) => progress.advance(bytes),
        },
      );
      result.blobs[outcome]++;
      if (outcome === "exists") skipItem(progress, "the registry has it");
      else if (outcome === "mounted") {
        skipItem(progress, `mounted from ${mountFrom}`);
      } else progress.end();
    }
    for (const child of children) {
      await putManifest(connection, child, child.digest);
    }
    const tag = ref.tag ?? manifestDigest;
    await putManifest(connection, top, tag);
    result.pushed = `${ref.registry}/${ref.repository}${
      ref.tag === undefined ? "" : `:${ref.tag}`
    }@${manifestDigest}`;
    return result;
  } catch (error) {
    throw asPushError(error, image);
  } finally {
    connection?.close();
  }
}

/** A manifest or index read from the layout. */
interface LocalDocument {
  digest: string;
  mediaType: string;
  kind: "manifest" | "index";
  bytes: Uint8Array<ArrayBuffer>;
  document: unknown;
  needs: ManifestNeeds | IndexNeeds;
}

/** Reads documents and blobs of a layout, by validated digest only. */
class LayoutReader {
  constructor(readonly layout: string, readonly image: string) {}

  path(digest: string): string {
    const problem = digestProblem(digest);
    if (problem !== undefined) {
      throw new PushError(this.image, `the local image names ${problem}`, {
        kind: "layout",
      });
    }
    return `${this.layout}/blobs/${digest.replace(":", "/")}`;
  }

  /** Size of a regular file blob; errors name the digest. */
  async size(digest: string): Promise<number> {
    const path = this.path(digest);
    try {
      const info = await Deno.lstat(path);
      if (!info.isFile) throw new Error("not a regular file");
      return info.size;
    } catch (error) {
      throw new PushError(
        this.image,
        `blob ${digest} is missing from the local image store (${path}): ${
          error instanceof Error ? error.message : String(error)
        }`,
        { kind: "layout", hint: "Commit the image again", cause: error },
      );
    }
  }

  async document(digest: string): Promise<LocalDocument> {
    const size = await this.size(digest);
    if (size > MAX_MANIFEST_BYTES) {
      throw new PushError(this.image, `manifest ${digest} is over 4 MiB`, {
        kind: "too-large",
      });
    }
    const bytes = await Deno.readFile(this.path(digest));
    try {
      const document = JSON.parse(new TextDecoder().decode(bytes));
      const mediaType = String(document?.mediaType ?? "");
      const kind = manifestKind(mediaType);
      if (kind !== "manifest" && kind !== "index") {
        throw new TypeError(`unsupported media type "${mediaType}"`);
      }
      const needs = documentNeeds(kind, document);
      return { digest, mediaType, kind, bytes, document, needs };
    } catch (error) {
      throw new PushError(
        this.image,
        `manifest ${digest} of the local image is unreadable: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { kind: "layout", cause: error },
      );
    }
  }

  async blob(descriptor: Descriptor): Promise<BlobSource> {
    const size = await this.size(descriptor.digest);
    if (size !== descriptor.size) {
      throw new PushError(
        this.image,
        `blob ${descriptor.digest} is ${size} bytes in the local image store, its descriptor states ${descriptor.size}`,
        { kind: "layout", hint: "Commit the image again" },
      );
    }
    const path = this.path(descriptor.digest);
    return {
      descriptor,
      read: async (start, end) => {
        const file = await Deno.open(path, { read: true });
        try {
          await file.seek(start, Deno.SeekMode.Start);
          const bytes = new Uint8Array(end - start);
          let filled = 0;
          while (filled < bytes.length) {
            const n = await file.read(bytes.subarray(filled));
            if (n === null) throw new Error(`${path} ended early`);
            filled += n;
          }
          return bytes;
        } finally {
          file.close();
        }
      },
    };
  }
}

/** The base named in a manifest's annotations, if it parses. */
function baseOf(document: unknown): ImageReference | undefined {
  const name = (document as { annotations?: Record<string, unknown> })
    ?.annotations?.[BASE_NAME_ANNOTATION];
  if (typeof name !== "string") return undefined;
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

/** PUTs a manifest (retrying 5xx) and checks the digest the registry reports. */
async function putManifest(
  connection: PushConnection,
  manifest: LocalDocument,
  reference: string,
): Promise<void> {
  const response = await connection.request(
    connection.url(`manifests/${reference}`),
    {
      method: "PUT",
      headers: { "content-type": manifest.mediaType },
      body: manifest.bytes,
    },
  );
  if (response.status !== 201 && response.status !== 200) {
    throw await statusError(
      connection.image,
      response,
      `manifest ${manifest.digest}`,
    );
  }
  await response.body?.cancel();
  const reported = response.headers.get("docker-content-digest")?.trim();
  if (reported && reported !== manifest.digest) {
    throw new RegistryError(
      connection.image,
      `the registry stored manifest ${manifest.digest} as ${reported}`,
      { kind: "digest" },
    );
  }
  connection.log(`manifest ${manifest.digest}: pushed as ${reference}`);
}
