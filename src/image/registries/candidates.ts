/**
 * Where to pull a reference from, given a registries.conf: short-name
 * resolution (aliases, then `unqualified-search-registries` under
 * `short-name-mode`), then for each candidate the `[[registry]]` with the
 * longest matching prefix, its mirrors and its location, as
 * containers/image decides them with no terminal to prompt on.
 *
 * Pure: no I/O. Every location carries the rule (and file) that chose it,
 * for `--verbose`.
 *
 * @module
 */

import { parseReference } from "../reference.ts";
import type { ImageReference } from "../types.ts";
import {
  DEFAULT_SHORT_NAME_MODE,
  hasRegistry,
  type RegistriesConf,
  RegistriesConfError,
  type RegistryRule,
} from "./conf.ts";

/** One place to try: a (possibly rewritten) reference and how to reach it. */
export interface PullSource {
  /** The reference as that location names it. */
  ref: ImageReference;
  /** Plain http allowed and certificates not verified there. */
  insecure: boolean;
  /** Which file and rule chose it. */
  why: string;
}

/** A fully-qualified name to try, with its sources in order. */
export interface PullCandidate {
  /** The reference it stands for (before any rewriting). */
  ref: ImageReference;
  /** How the name was reached (as typed, alias, search registry). */
  why: string;
  /** The name as typed (normalised), not an alias or a search result. */
  typed: boolean;
  /** Mirrors then the location; empty when blocked. */
  sources: PullSource[];
  /** Set when a `[[registry]]` blocks it: the reason. */
  blocked?: string;
}

/** Why a reference cannot be pulled at all under the configuration. */
export class ShortNameError extends Error {
  /** The candidates, when ambiguity was the problem. */
  readonly candidates: string[];

  /** Makes the error. */
  constructor(message: string, candidates: string[] = []) {
    super(message);
    this.name = "ShortNameError";
    this.candidates = candidates;
  }
}

/**
 * The candidates for `text` (as typed) whose parsed form is `ref`, in the
 * order to try them. Pure.
 *
 * @throws {ShortNameError} for a short name with no alias and no search
 * registries, or an ambiguous one under `enforcing`.
 * @throws {RegistriesConfError} when a rule rewrites to an invalid name.
 */
export function pullCandidates(
  conf: RegistriesConf,
  text: string,
  ref: ImageReference,
): PullCandidate[] {
  return resolveShortName(conf, text, ref).map(({ ref, why, typed }) => ({
    ref,
    why,
    typed,
    ...pullSources(conf, ref),
  }));
}

/**
 * Short-name resolution: the fully-qualified names `text` stands for.
 * Pure.
 *
 * @throws {ShortNameError}
 */
export function resolveShortName(
  conf: RegistriesConf,
  text: string,
  ref: ImageReference,
): { ref: ImageReference; why: string; typed: boolean }[] {
  const name = shortName(text);
  if (name === undefined) return [{ ref, why: "fully qualified", typed: true }];
  const suffix = tailOf(ref);
  const alias = conf.aliases.get(name);
  if (alias?.value !== undefined) {
    return [{
      ref: parseReference(`${alias.value}${suffix}`),
      why: `alias "${name}" = "${alias.value}" in ${alias.origin}`,
      typed: false,
    }];
  }
  if (conf.search === undefined) {
    // No file sets the list: docker's rule, as polythene always had (podman
    // would refuse the name here).
    return [{
      ref,
      why: "no unqualified-search-registries set: docker.io, as docker does",
      typed: true,
    }];
  }
  const search = conf.search.value;
  if (search.length === 0) {
    throw new ShortNameError(
      `short name "${name}" did not resolve to an alias and unqualified-search-registries is empty in ${conf.search.origin}`,
    );
  }
  const candidates = search.map((registry) => ({
    ref: parseReference(`${registry}/${name}${suffix}`),
    why: `unqualified-search-registries in ${conf.search!.origin}`,
    typed: false,
  }));
  const mode = conf.shortNameMode?.value ?? DEFAULT_SHORT_NAME_MODE;
  if (mode === "enforcing" && candidates.length > 1) {
    const names = candidates.map((c) => formatName(c.ref));
    throw new ShortNameError(
      `short name "${name}" is ambiguous under short-name-mode "enforcing" (${
        conf.shortNameMode!.origin
      }) and there is no terminal to ask on: it could be ${names.join(", ")}`,
      names,
    );
  }
  return candidates;
}

/**
 * The short name in `text` (no tag or digest), or undefined when `text`
 * names its registry (or has the `docker://` transport). Pure.
 */
export function shortName(text: string): string | undefined {
  if (text.startsWith("docker://")) return undefined;
  let name = text;
  const at = name.indexOf("@");
  if (at >= 0) name = name.slice(0, at);
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) name = name.slice(0, colon);
  return hasRegistry(name) ? undefined : name;
}

/**
 * The `[[registry]]` whose prefix matches `ref` longest (the first of
 * equals), as containers/image's `FindRegistry`. Pure.
 */
export function findRule(
  conf: RegistriesConf,
  ref: ImageReference,
): RegistryRule | undefined {
  const name = `${ref.registry}/${ref.repository}`;
  let found: RegistryRule | undefined;
  for (const rule of conf.registries) {
    if (matchLength(name, rule.prefix) < 0) continue;
    if (found === undefined || rule.prefix.length > found.prefix.length) {
      found = rule;
    }
  }
  return found;
}

/**
 * The mirrors (filtered by `pull-from-mirror`) then the location of the
 * rule matching `ref`, each with `ref` rewritten; or `blocked`. Pure.
 *
 * @throws {RegistriesConfError} when a location makes an invalid name.
 */
export function pullSources(
  conf: RegistriesConf,
  ref: ImageReference,
): { sources: PullSource[]; blocked?: string } {
  const rule = findRule(conf, ref);
  if (rule === undefined) {
    return {
      sources: [{
        ref,
        insecure: false,
        why: `no [[registry]] matches; its own registry`,
      }],
    };
  }
  const where = `[[registry]] prefix "${rule.prefix}" in ${rule.origin}`;
  if (rule.blocked) {
    return {
      sources: [],
      blocked: `registry "${rule.prefix}" is blocked by ${where}`,
    };
  }
  const byDigest = ref.digest !== undefined;
  const mirrors = rule.mirrors.filter((m) =>
    rule.mirrorByDigestOnly ? byDigest : m.pullFromMirror === "all" ||
      (m.pullFromMirror === "digest-only") === byDigest
  );
  return {
    sources: [
      ...mirrors.map((m, i) => ({
        ref: rewrite(ref, rule, m.location),
        insecure: m.insecure,
        why: `mirror #${i + 1} "${m.location}" of ${where}`,
      })),
      {
        ref: rewrite(ref, rule, rule.location),
        insecure: rule.insecure,
        why: rule.location === "" || rule.location === rule.prefix
          ? where
          : `location "${rule.location}" of ${where}`,
      },
    ],
  };
}

/** `REGISTRY/REPOSITORY`. Pure. */
export function formatName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * How much of `name` the prefix matches, or -1 (containers/image's
 * `refMatchingPrefix`: whole components, or a `*.DOMAIN` host suffix).
 */
function matchLength(name: string, prefix: string): number {
  if (prefix.startsWith("*.")) {
    const domain = prefix.slice(1);
    const host = name.split("/")[0]!.replace(/:\d+$/, "");
    return host.endsWith(domain) ? host.length : -1;
  }
  if (name === prefix) return prefix.length;
  if (!name.startsWith(prefix)) return -1;
  const next = name[prefix.length];
  return next === "/" || next === ":" || next === "@" ? prefix.length : -1;
}

function rewrite(
  ref: ImageReference,
  rule: RegistryRule,
  location: string,
): ImageReference {
  if (location === "") return ref;
  const name = formatName(ref);
  const rewritten = location + name.slice(matchLength(name, rule.prefix));
  const tail = tailOf(ref);
  let parsed: ImageReference;
  try {
    parsed = parseReference(`${rewritten}${tail}`);
  } catch (error) {
    throw new RegistriesConfError(
      rule.origin,
      `location "${location}" makes "${rewritten}", not a valid image name`,
      { cause: error },
    );
  }
  if (!hasRegistry(rewritten) || formatName(parsed) !== rewritten) {
    throw new RegistriesConfError(
      rule.origin,
      `location "${location}" makes "${rewritten}", which does not name its registry`,
    );
  }
  return parsed;
}

/** `:TAG`, `@DIGEST`, both or neither. */
function tailOf(ref: ImageReference): string {
  return (ref.tag === undefined ? "" : `:${ref.tag}`) +
    (ref.digest === undefined ? "" : `@${ref.digest}`);
}
