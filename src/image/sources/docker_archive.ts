/**
 * Reads an unpacked `docker save` / `podman save` archive
 * (`docker-archive:FILE`): `manifest.json` names the config and the layer
 * files; layers are verified against the config's diff_ids by the caller.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import { MediaType } from "../media_types.ts";
import { MAX_DOCUMENT_BYTES, type SourceImage } from "../reader.ts";
import type { ImageConfig } from "../types.ts";
import { safeMemberPath } from "./archive_files.ts";

/** One image of `manifest.json`. */
export interface DockerArchiveEntry {
  /** Path of the config file in the archive. */
  Config: string;
  /** Tags, e.g. `docker.io/library/busybox:latest`. */
  RepoTags?: string[] | null;
  /** Paths of the layer tars, bottom first. */
  Layers: string[];
}

/**
 * Picks the image: by tag (matched as given or without a `docker.io/` or
 * `docker.io/library/` prefix), by `@N` index, or the only one. Pure.
 */
export function pickArchiveEntry(
  entries: DockerArchiveEntry[],
  select: { reference?: string; index?: number },
): DockerArchiveEntry {
  if (select.index !== undefined) {
    const entry = entries[select.index];
    if (entry) return entry;
    throw new Error(
      `the archive holds ${entries.length} image${
        entries.length === 1 ? "" : "s"
      }, numbered from @0: there is no @${select.index}`,
    );
  }
  if (select.reference !== undefined) {
    const wanted = shortTag(select.reference);
    const entry = entries.find((e) =>
      (e.RepoTags ?? []).some((t) => shortTag(t) === wanted)
    );
    if (entry) return entry;
    throw new Error(`no image tagged "${select.reference}" in the archive`);
  }
  if (entries.length === 1) return entries[0]!;
  throw new Error(
    `the archive holds ${entries.length} images; name one with :TAG or :@N`,
  );
}

function shortTag(tag: string): string {
  const withTag = /:[^/]+$/.test(tag) ? tag : `${tag}:latest`;
  return withTag.replace(/^docker\.io\/(library\/)?/, "").replace(
    /^library\//,
    "",
  );
}

/** Resolves the image in the unpacked archive at `dir`. */
export async function resolveDockerArchive(
  dir: string,
  select: { reference?: string; index?: number },
  label: string,
): Promise<SourceImage> {
  const fail = (why: string, cause?: unknown) =>
    new PolytheneError(`Cannot pull "${label}": ${why}`, {
      exitCode: 1,
      cause,
    });
  const file = (name: string) => {
    const path = safeMemberPath(name);
    if (path === undefined) {
      throw fail(`unsafe path "${name}" in manifest.json`);
    }
    return `${dir}/${path}`;
  };
  let entry: DockerArchiveEntry;
  let config: ImageConfig;
  try {
    const entries = JSON.parse(await readSmall(`${dir}/manifest.json`));
    if (!Array.isArray(entries)) throw new Error("manifest.json is not a list");
    entry = pickArchiveEntry(entries, select);
    config = JSON.parse(await readSmall(file(entry.Config)));
  } catch (error) {
    if (error instanceof PolytheneError) throw error;
    throw fail(
      `not a docker archive (${
        error instanceof Error ? error.message : error
      })`,
      error,
    );
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw fail(
      `the config lists ${diffIds.length} layers but manifest.json ${entry.Layers.length}`,
    );
  }
  // Layer files may be plain tar or gzip under a tar name: declared as
  // plain tar, the decompressor sniffs their first bytes.
  const layers = entry.Layers.map((name, i) => {
    const path = file(name);
    return {
      mediaType: MediaType.DockerLayer,
      diffId: diffIds[i]!,
      open: async () => (await Deno.open(path)).readable,
    };
  });
  return {
    platform: config.os && config.architecture
      ? {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      }
      : undefined,
    config,
    layers,
  };
}

async function readSmall(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (info.size > MAX_DOCUMENT_BYTES) throw new Error(`${path} is over 4 MiB`);
  return await Deno.readTextFile(path);
}
