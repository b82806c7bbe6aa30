/**
 * The native puller's part of `pull`: resolve the source (a registry
 * through registries.conf and the proxy variables, or an OCI layout or
 * archive) and unpack it into the staging directory.
 *
 * `--puller auto` falls through to podman only when resolving a registry
 * image failed because no location could be reached at all (every
 * location's failure was of kind `network`: refused, reset, DNS, idle
 * timeout), before anything was unpacked, and podman is installed. An
 * authentication failure, a refusal, a missing image, a TLS or digest
 * problem never falls through: podman would hide it or repeat it.
 *
 * Permissions: as `pull.ts`.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";
import type { Log } from "../log.ts";
import { BlobCache } from "../store/blob_cache.ts";
import type { EntryMetadata } from "../store/metadata.ts";
import type { Staging } from "../store/staging.ts";
import type { ImageLimits } from "./image_limits.ts";
import type { SourceImage } from "./reader.ts";
import { loadRegistriesConf } from "./registries/load.ts";
import { RegistryClient, RegistryError } from "./registry/mod.ts";
import { PROXY_ENV_VARS, proxyEnvProblem } from "./registry/proxy.ts";
import { unpackArchiveFiles } from "./sources/archive_files.ts";
import {
  configuredSource,
  insecureRegistries,
  planCandidates,
  registriesConfFailure,
} from "./sources/configured_source.ts";
import { resolveDockerArchive } from "./sources/docker_archive.ts";
import { OciLayout } from "./sources/oci_layout.ts";
import type { ImageSource } from "./source.ts";
import type { ImageReference, Platform } from "./types.ts";
import { unpackStacked } from "./stacked_unpack.ts";
import { LayerStacks } from "../store/layer_stacks.ts";
import type { ProgressReporter } from "../progress.ts";

/** The parts of a pull request the native puller reads. */
export interface NativePullRequest {
  /** The store root. */
  store: string;
  /** The IMAGE argument as typed. */
  image: string;
  /** `auto` lets an unreachable registry fall through to podman. */
  puller: "native" | "podman" | "auto";
  /** false allows plain http and unverified TLS everywhere. */
  tlsVerify: boolean;
  /** The host environment (registries.conf, proxies, credentials). */
  hostEnv: (name: string) => string | undefined;
  /** Verbose log. */
  log: Log;
  /** Progress: called as each layer starts. */
  onLayer?: (index: number, count: number) => void;
  /** Caps for the whole image. */
  limits?: Partial<ImageLimits>;
  /** Progress: each layer's bytes and entries (see `src/progress.ts`). */
  progress?: ProgressReporter;
}

/** What the native puller unpacked. */
export interface NativePulled {
  /** The image. */
  image: SourceImage;
  /** For a registry image: the fully-qualified name it resolved to. */
  ref?: ImageReference;
  /** Bytes of regular files written. */
  fileBytes: number;
  /** Device nodes skipped (not root). */
  skippedDevices: number;
  /** Ownership recorded for a non-root pull. */
  ownership: EntryMetadata["ownership"];
}

/** Context of {@linkcode nativePull}. */
export interface NativePullContext {
  /** Aborts the pull. */
  signal: AbortSignal;
  /** Running as root. */
  asRoot: boolean;
  /** Free bytes in the store, when known. */
  free: number | undefined;
  /** Whether podman can be used (for `auto`). */
  podmanInstalled: () => boolean;
  /**
   * For `pull --reuse`: the UUID of a stored entry that stands for the
   * resolved image's digest, asked before any layer is opened.
   */
  reusable?: (digest: string | undefined) => Promise<string | undefined>;
}

/**
 * Pulls natively into `staging`.
 *
 * @returns what was unpacked; `{ reused }` when `context.reusable` named a
 * stored entry; or `{ unreachable }` when `auto` should fall through to
 * podman (nothing was unpacked in either case).
 * @throws {PolytheneError} as `pullImage` documents.
 */
export async function nativePull(
  staging: Staging,
  source: ImageSource,
  platform: Platform,
  request: NativePullRequest,
  context: NativePullContext,
): Promise<
  NativePulled | { reused: string } | { unreachable: RegistryError }
> {
  const cache = new BlobCache(request.store, staging.uuid);
  let insecure: string[] = [];
  let resolve: (client: RegistryClient) => Promise<{
    image: SourceImage;
    ref?: ImageReference;
  }>;
  if (source.kind === "registry") {
    const conf = await loadRegistriesConf({ env: request.hostEnv }).catch(
      (error) => {
        throw registriesConfFailure(request.image, error);
      },
    );
    request.log(
      `registries configuration: ${conf.files.join(", ") || "none found"}`,
    );
    const problem = proxyEnvProblem(request.hostEnv);
    if (problem !== undefined) {
      throw new PolytheneError(`Cannot pull "${request.image}": ${problem}`, {
        exitCode: 1,
        hint: "fix or unset that variable (e.g. http://proxy.example:3128)",
      });
    }
    const candidates = planCandidates(conf, request.image, source.reference);
    insecure = insecureRegistries(candidates);
    resolve = (client) =>
      configuredSource(
        client,
        candidates,
        request.image,
        platform,
        cache,
        request.log,
      );
  } else {
    resolve = async () => ({
      image: await resolveLocal(source, platform, request.image, staging),
    });
  }
  const client = new RegistryClient({
    tlsVerify: request.tlsVerify,
    log: request.log,
    signal: context.signal,
    documents: cache,
    insecureRegistries: insecure,
    proxyEnv: proxyEnv(request.hostEnv),
  });
  try {
    let resolved: { image: SourceImage; ref?: ImageReference };
    try {
      resolved = await resolve(client);
    } catch (error) {
      if (
        fallsThroughToPodman(request.puller, error, context.signal.aborted) &&
        context.podmanInstalled()
      ) {
        return { unreachable: error as RegistryError };
      }
      throw error;
    }
    const reused = await context.reusable?.(resolved.image.digest);
    if (reused !== undefined) return { reused };
    const result = await unpackStacked(resolved.image, staging.dir, {
      // Caps other than the defaults must be checked by an extraction.
      stacks: new LayerStacks(request.store),
      owner: staging.uuid,
      hostPath: request.hostEnv("PATH") || "/usr/local/bin:/usr/bin:/bin",
      asRoot: context.asRoot,
      label: request.image,
      log: request.log,
      signal: context.signal,
      onLayer: request.onLayer,
      limits: request.limits,
      freeBytes: context.free,
      progress: request.progress,
    });
    return {
      image: resolved.image,
      ref: resolved.ref,
      fileBytes: result.fileBytes,
      skippedDevices: result.skippedDevices,
      ownership: result.ownership as EntryMetadata["ownership"],
    };
  } finally {
    await client.close();
  }
}

/**
 * Whether `--puller auto` hands the pull to podman after the native client
 * failed with `error` while resolving: only when no location could be
 * reached at all (kind `network`), never for a refusal, an authentication
 * failure (the registry's or the proxy's), a missing image, a TLS or
 * digest problem, nor when the pull was interrupted. Pure.
 */
export function fallsThroughToPodman(
  puller: NativePullRequest["puller"],
  error: unknown,
  aborted: boolean,
): boolean {
  return puller === "auto" && !aborted && error instanceof RegistryError &&
    error.kind === "network";
}

/** Only the proxy variables of `env`. */
function proxyEnv(
  env: (name: string) => string | undefined,
): (name: string) => string | undefined {
  const names = new Set<string>(PROXY_ENV_VARS);
  return (name) => names.has(name) ? env(name) : undefined;
}

async function resolveLocal(
  source: ImageSource,
  platform: Platform,
  label: string,
  staging: Staging,
): Promise<SourceImage> {
  switch (source.kind) {
    case "oci":
      return await new OciLayout(source.path, label).resolve(
        source.tag,
        platform,
      );
    case "oci-archive": {
      const dir = await staging.scratch();
      await unpackArchiveFiles(source.path, dir, label);
      return await new OciLayout(dir, label).resolve(source.tag, platform);
    }
    case "docker-archive": {
      const dir = await staging.scratch();
      await unpackArchiveFiles(source.path, dir, label);
      return await resolveDockerArchive(dir, source, label);
    }
    case "registry":
    case "containers-storage":
      throw new TypeError(`${source.kind} is not a local source`);
  }
}
