/**
 * A registry image as a {@linkcode SourceImage}: layers come from the blob
 * cache when present (verified again on the way out) and are otherwise
 * downloaded, verified while streaming, and written through to the cache.
 *
 * @module
 */

import type { BlobCache } from "../../store/blob_cache.ts";
import type { Log } from "../../log.ts";
import type { SourceImage } from "../reader.ts";
import {
  openBlob,
  type RegistryClient,
  resolveImage,
} from "../registry/mod.ts";
import { verifyingStream } from "../registry/verify.ts";
import type { Descriptor, ImageReference, Platform } from "../types.ts";

/** Resolves `ref` for `platform` through `client`, caching blobs in `cache`. */
export async function registrySource(
  client: RegistryClient,
  ref: ImageReference,
  platform: Platform,
  cache: BlobCache,
  log: Log,
): Promise<SourceImage> {
  const resolved = await resolveImage(client, ref, platform);
  const diffIds = resolved.config.rootfs?.diff_ids ?? [];
  const cached = await Promise.all(
    resolved.layers.map((layer) => cache.has(layer.digest, layer.size)),
  );
  return {
    digest: resolved.manifestDigest,
    configDigest: resolved.manifest.config.digest,
    platform: resolved.platform,
    config: resolved.config,
    layers: resolved.layers.map((layer, i) => ({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      cacheBytes: cached[i] ? 0 : layer.size,
      diffId: diffIds[i]!,
      open: () => cachedOrFetched(client, ref, layer, cache, log),
    })),
  };
}

async function cachedOrFetched(
  client: RegistryClient,
  ref: ImageReference,
  layer: Descriptor,
  cache: BlobCache,
  log: Log,
): Promise<ReadableStream<Uint8Array>> {
  const cached = await cache.open(layer.digest, layer.size);
  if (cached !== undefined) {
    log(`blob ${layer.digest.slice(0, 19)} from the cache`);
    return cached.pipeThrough(verifyingStream(layer));
  }
  log(`blob ${layer.digest.slice(0, 19)} downloading (${layer.size} bytes)`);
  const body = await openBlob(client, ref, layer, {});
  const writer = await cache.writer(layer.digest);
  if (writer === undefined) return body;
  return body.pipeThrough(writeThrough(writer));
}

/** Copies each chunk into the cache; publishes the blob when the stream ends. */
function writeThrough(
  writer: Awaited<ReturnType<BlobCache["writer"]>> & object,
): TransformStream<Uint8Array, Uint8Array> {
  const sink = writer.writable.getWriter();
  let failed = false;
  const fail = async () => {
    if (failed) return;
    failed = true;
    await sink.abort().catch(() => {});
    await writer.abort();
  };
  return new TransformStream({
    async transform(chunk, controller) {
      if (!failed) {
        try {
          await sink.write(chunk);
        } catch {
          await fail();
        }
      }
      controller.enqueue(chunk);
    },
    async flush() {
      if (failed) return;
      await sink.close();
      await writer.commit();
    },
    async cancel() {
      await fail();
    },
  });
}
