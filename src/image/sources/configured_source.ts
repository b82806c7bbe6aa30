/**
 * A registry image pulled the way registries.conf says: each candidate of
 * short-name resolution in order, and for each its mirrors then its
 * location, until one serves the manifest. Which file and rule chose each
 * location goes to the verbose log.
 *
 * @module
 */

import { PolytheneError } from "../../errors.ts";
import type { Log } from "../../log.ts";
import type { BlobCache } from "../../store/blob_cache.ts";
import { formatReference } from "../reference.ts";
import type { SourceImage } from "../reader.ts";
import {
  type PullCandidate,
  pullCandidates,
  ShortNameError,
} from "../registries/candidates.ts";
import {
  type RegistriesConf,
  RegistriesConfError,
} from "../registries/conf.ts";
import { type RegistryClient, RegistryError } from "../registry/mod.ts";
import type { ImageReference, Platform } from "../types.ts";
import { registrySource } from "./registry_source.ts";

/** What was pulled, and under which name. */
export interface ConfiguredImage {
  /** The image. */
  image: SourceImage;
  /** The fully-qualified reference it stands for (before rewriting). */
  ref: ImageReference;
}

/**
 * The registries (`HOST[:PORT]`) of this pull's sources that are
 * `insecure`: only those the rules matching this reference mark so. Pure.
 */
export function insecureRegistries(candidates: PullCandidate[]): string[] {
  const hosts = new Set<string>();
  for (const candidate of candidates) {
    for (const source of candidate.sources) {
      if (source.insecure) hosts.add(source.ref.registry);
    }
  }
  return [...hosts];
}

/**
 * The candidates for `text` under `conf`, as errors the CLI prints.
 *
 * @throws {PolytheneError} (exit 1) for an unusable configuration or short
 * name.
 */
export function planCandidates(
  conf: RegistriesConf,
  text: string,
  ref: ImageReference,
): PullCandidate[] {
  try {
    return pullCandidates(conf, text, ref);
  } catch (error) {
    if (error instanceof ShortNameError) {
      throw new PolytheneError(`Cannot pull "${text}": ${error.message}`, {
        exitCode: 1,
        hint: error.candidates.length
          ? "name the image fully (REGISTRY/NAME), or add a [aliases] entry to registries.conf"
          : "name the image fully (REGISTRY/NAME), or set unqualified-search-registries in registries.conf",
        cause: error,
      });
    }
    throw confError(text, error);
  }
}

/**
 * Tries each candidate's locations in order; the first that resolves wins.
 *
 * @throws {RegistryError} the only failure when there was one location;
 * otherwise one naming every location tried, of kind `network` only when
 * every location was unreachable.
 * @throws {PolytheneError} when every candidate is blocked.
 */
export async function configuredSource(
  client: RegistryClient,
  candidates: PullCandidate[],
  text: string,
  platform: Platform,
  cache: BlobCache,
  log: Log,
): Promise<ConfiguredImage> {
  const failures: { where: string; error: RegistryError }[] = [];
  const blocked: string[] = [];
  for (const candidate of candidates) {
    const name = formatReference(candidate.ref);
    if (candidate.blocked !== undefined) {
      log(`${name} (${candidate.why}): ${candidate.blocked}`);
      blocked.push(candidate.blocked);
      continue;
    }
    for (const source of candidate.sources) {
      const where = formatReference(source.ref);
      log(
        `trying ${where} for ${name}: ${candidate.why}; ${source.why}${
          source.insecure ? " (insecure)" : ""
        }`,
      );
      try {
        const image = await registrySource(
          client,
          source.ref,
          platform,
          cache,
          log,
        );
        return { image, ref: candidate.ref };
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        log(`${where}: ${error.detail}`);
        failures.push({ where, error });
      }
    }
  }
  if (failures.length === 0) {
    throw new PolytheneError(
      `Cannot pull "${text}": ${blocked.join("; ")}`,
      { exitCode: 1, hint: "pull it from a registry that is not blocked" },
    );
  }
  // One location for the name as typed: its own error says it best.
  const asTyped = candidates.length === 1 && candidates[0]!.typed &&
    formatReference(candidates[0]!.ref) === failures[0]!.where;
  if (failures.length === 1 && blocked.length === 0 && asTyped) {
    throw failures[0]!.error;
  }
  const unreachable = failures.every((f) => f.error.kind === "network");
  const first = failures.find((f) => f.error.kind !== "network") ??
    failures[0]!;
  throw new RegistryError(
    text,
    `no location served it: ${
      [
        ...blocked,
        ...failures.map((f) => `${f.where}: ${f.error.detail}`),
      ].join("; ")
    }`,
    {
      kind: unreachable ? "network" : first.error.kind,
      status: first.error.status,
      hint: first.error.hint,
      cause: first.error,
    },
  );
}

function confError(text: string, error: unknown): PolytheneError {
  if (error instanceof RegistriesConfError) {
    return new PolytheneError(`Cannot pull "${text}": ${error.message}`, {
      exitCode: 1,
      hint: "fix or remove that file (see containers-registries.conf(5))",
      cause: error,
    });
  }
  if (error instanceof PolytheneError) return error;
  throw error;
}

/** Wraps a load failure of the configuration for the CLI. */
export function registriesConfFailure(
  text: string,
  error: unknown,
): PolytheneError {
  return confError(text, error);
}
