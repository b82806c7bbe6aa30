/**
 * Reads an OCI image layout directory (`oci:DIR[:TAG]`; an `oci-archive:` is
 * unpacked into one first). Every document and blob is read from
 * `DIR/blobs/ALG/HEX`, named only by a validated digest, and verified.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import { manifestKind } from "../media_types.ts";
import {
  formatPlatform,
  platformMatches,
  selectManifest,
} from "../platform.ts";
import {
  type ImageLayer,
  MAX_DOCUMENT_BYTES,
  type SourceImage,
} from "../reader.ts";
import {
  readLimited,
  splitDigest,
  verifyingStream,
} from "../registry/verify.ts";
import type { Descriptor, ImageConfig, Platform } from "../types.ts";

/** The annotation that names a tag in `index.json`. */
export const REF_NAME = "org.opencontainers.image.ref.name";

interface Index {
  manifests: Descriptor[];
}

interface Manifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/**
 * Picks the `index.json` entry for `tag`, or the only entry when no tag is
 * given. Pure.
 *
 * @throws {Error} listing the tags that exist.
 */
export function pickLayoutEntry(index: Index, tag?: string): Descriptor {
  const tags = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter(
    (t): t is string => t !== undefined,
  );
  if (tag !== undefined) {
    const entry = index.manifests.find((m) =>
      m.annotations?.[REF_NAME] === tag
    );
    if (entry) return entry;
    throw new Error(
      `no tag "${tag}" in the layout; it has ${
        tags.length ? tags.join(", ") : "no tags"
      }`,
    );
  }
  if (index.manifests.length === 1) return index.manifests[0]!;
  throw new Error(
    `the layout holds ${index.manifests.length} images; name one with :TAG (${
      tags.join(", ")
    })`,
  );
}

/** Opens images in the layout at `dir`. */
export class OciLayout {
  readonly #dir: string;
  readonly #label: string;

  /**
   * @param dir The layout directory.
   * @param label What to call it in errors (the IMAGE argument).
   */
  constructor(dir: string, label: string) {
    this.#dir = dir.replace(/\/+$/, "");
    this.#label = label;
  }

  /** Resolves `tag` (or the only image) for `platform`. */
  async resolve(
    tag: string | undefined,
    platform: Platform,
  ): Promise<SourceImage> {
    let index: Index;
    try {
      const layout = JSON.parse(
        await Deno.readTextFile(`${this.#dir}/oci-layout`),
      );
      if (typeof layout?.imageLayoutVersion !== "string") {
        throw new Error("bad oci-layout");
      }
      index = JSON.parse(await Deno.readTextFile(`${this.#dir}/index.json`));
      if (!Array.isArray(index?.manifests)) throw new Error("bad index.json");
    } catch (error) {
      throw this.#fail(`not an OCI image layout (${message(error)})`, error);
    }
    let entry: Descriptor;
    try {
      entry = pickLayoutEntry(index, tag);
    } catch (error) {
      throw this.#fail(message(error), error);
    }
    let fromIndex = false;
    for (let depth = 0; depth < 4; depth++) {
      const bytes = await this.#document(entry);
      const kind = manifestKind(entry.mediaType);
      if (kind === "index") {
        try {
          entry = selectManifest(JSON.parse(decode(bytes)), platform);
          fromIndex = true;
        } catch (error) {
          throw this.#fail(message(error), error);
        }
        continue;
      }
      if (kind !== "manifest") {
        throw this.#fail(`unsupported manifest type "${entry.mediaType}"`);
      }
      return await this.#image(
        entry,
        JSON.parse(decode(bytes)),
        platform,
        fromIndex,
      );
    }
    throw this.#fail("indexes nest too deeply");
  }

  async #image(
    entry: Descriptor,
    manifest: Manifest,
    platform: Platform,
    fromIndex: boolean,
  ): Promise<SourceImage> {
    const config: ImageConfig = JSON.parse(
      decode(await this.#document(manifest.config)),
    );
    const own = config.os && config.architecture
      ? {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      }
      : undefined;
    if (!fromIndex && own !== undefined && !platformMatches(own, platform)) {
      throw this.#fail(
        `the image is for ${formatPlatform(own)}, not ${
          formatPlatform(platform)
        }; choose its platform with --platform`,
      );
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw this.#fail(
        `the config lists ${diffIds.length} layers but the manifest ${manifest.layers.length}`,
      );
    }
    const layers: ImageLayer[] = manifest.layers.map((layer, i) => ({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      diffId: diffIds[i]!,
      open: () => this.#blob(layer),
    }));
    return {
      digest: entry.digest,
      platform: config.os && config.architecture
        ? {
          os: config.os,
          architecture: config.architecture,
          ...(config.variant ? { variant: config.variant } : {}),
        }
        : platform,
      config,
      layers,
    };
  }

  async #document(descriptor: Descriptor): Promise<Uint8Array> {
    if (descriptor.size > MAX_DOCUMENT_BYTES) {
      throw this.#fail(`${descriptor.digest} is larger than 4 MiB`);
    }
    const stream = await this.#blob(descriptor);
    try {
      return await readLimited(
        stream,
        MAX_DOCUMENT_BYTES,
        () => this.#fail("document over 4 MiB"),
      );
    } catch (error) {
      if (error instanceof PolytheneError) throw error;
      throw this.#fail(message(error), error);
    }
  }

  async #blob(descriptor: Descriptor): Promise<ReadableStream<Uint8Array>> {
    let path: string;
    try {
      const { algorithm, hex } = splitDigest(descriptor.digest);
      path = `${this.#dir}/blobs/${algorithm}/${hex}`;
    } catch (error) {
      throw this.#fail(`invalid digest "${descriptor.digest}"`, error);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch (error) {
      throw this.#fail(`blob ${descriptor.digest} is missing`, error);
    }
    return file.readable.pipeThrough(
      verifyingStream(descriptor, {
        makeError: (_kind, text) => this.#fail(text),
      }),
    );
  }

  #fail(why: string, cause?: unknown): PolytheneError {
    return new PolytheneError(`Cannot pull "${this.#label}": ${why}`, {
      exitCode: 1,
      cause,
    });
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
