/**
 * An image's layers flattened into one root filesystem tar: each path as
 * the topmost layer has it, whiteouts applied and never written. Two passes
 * over the layers: the first reads the headers to find which member of
 * which layer each path ends as, the second copies those members (raw
 * header blocks and bodies, unchanged).
 *
 * @module
 */

import { decompressStream } from "../layers/decompress.ts";
import { applyLayer, type BaseTree, treeKey } from "../commit/base_tree.ts";
import { END_OF_ARCHIVE, type TarHeader } from "../commit/tar_format.ts";
import { readTarHeaders, readTarMembers } from "../commit/tar_headers.ts";

/** A layer blob to read: its media type and how to open it. */
export interface FlattenLayer {
  mediaType: string;
  open(): Promise<ReadableStream<Uint8Array>>;
}

/**
 * Which member of which layer each final path comes from: `layer:ordinal`
 * by key. Pure but for reading the layers.
 */
async function finalMembers(
  layers: readonly FlattenLayer[],
): Promise<Map<string, string>> {
  const tree: BaseTree = new Map();
  const origin = new Map<string, string>();
  for (const [index, layer] of layers.entries()) {
    const headers: TarHeader[] = [];
    const tar = decompressStream(layer.mediaType, await layer.open());
    for await (const header of readTarHeaders(tar)) headers.push(header);
    applyLayer(tree, headers);
    for (const [ordinal, header] of headers.entries()) {
      const key = treeKey(header.name);
      if (tree.has(key)) origin.set(key, `${index}:${ordinal}`);
    }
  }
  for (const key of [...origin.keys()]) {
    if (!tree.has(key)) origin.delete(key);
  }
  return origin;
}

/** The flattened rootfs tar of `layers`, bottom first. */
export async function* flattenLayers(
  layers: readonly FlattenLayer[],
): AsyncGenerator<Uint8Array> {
  const origin = await finalMembers(layers);
  for (const [index, layer] of layers.entries()) {
    const tar = decompressStream(layer.mediaType, await layer.open());
    let ordinal = 0;
    for await (const member of readTarMembers(tar)) {
      const key = treeKey(member.header.name);
      if (origin.get(key) === `${index}:${ordinal++}`) {
        yield member.raw;
        yield* member.body();
      }
    }
  }
  yield END_OF_ARCHIVE;
}
