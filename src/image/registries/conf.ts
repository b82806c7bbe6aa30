/**
 * registries.conf (containers-registries.conf(5), version 2) as data: what
 * one file says, checked, and how drop-in files merge into the main one,
 * the way containers/image's `sysregistriesv2` does it.
 *
 * Pure: the TOML is parsed elsewhere (`load.ts`); these functions take the
 * decoded document and the file's path (for messages and `--verbose`).
 *
 * @module
 */

/** `short-name-mode`. */
export type ShortNameMode = "enforcing" | "permissive" | "disabled";

/** containers/image's default when no file sets `short-name-mode`. */
export const DEFAULT_SHORT_NAME_MODE: ShortNameMode = "permissive";

/** `pull-from-mirror` of a mirror. */
export type PullFromMirror = "all" | "digest-only" | "tag-only";

/** A `[[registry.mirror]]`. */
export interface MirrorRule {
  /** `HOST[:PORT][/NAMESPACE…]`. */
  location: string;
  /** Plain http allowed and certificates not verified. */
  insecure: boolean;
  /** Which references may come from this mirror. */
  pullFromMirror: PullFromMirror;
}

/** A `[[registry]]`, with the file that defined it. */
export interface RegistryRule {
  /** What it matches: `HOST[:PORT][/NAMESPACE…]` or `*.DOMAIN`. */
  prefix: string;
  /** Where matching references are pulled from ("" keeps them as they are). */
  location: string;
  /** Plain http allowed and certificates not verified. */
  insecure: boolean;
  /** Pulls are refused. */
  blocked: boolean;
  /** Mirrors only for references by digest (the older setting). */
  mirrorByDigestOnly: boolean;
  /** Tried in order before the location. */
  mirrors: MirrorRule[];
  /** The file that defined it. */
  origin: string;
}

/** A value with the file it came from. */
export interface Sourced<T> {
  /** The value. */
  value: T;
  /** The file that set it. */
  origin: string;
}

/** A merged configuration. */
export interface RegistriesConf {
  /** `unqualified-search-registries`, when some file set it. */
  search?: Sourced<string[]>;
  /** `short-name-mode`, when some file set it. */
  shortNameMode?: Sourced<ShortNameMode>;
  /** `[[registry]]` tables, one per prefix. */
  registries: RegistryRule[];
  /**
   * `[aliases]`: short name → fully-qualified name; `undefined` when a
   * later file removed the alias with `""`.
   */
  aliases: Map<string, Sourced<string | undefined>>;
  /** The files read, in order. */
  files: string[];
}

/** A registries.conf that cannot be used: names the file and the problem. */
export class RegistriesConfError extends Error {
  /** The file at fault. */
  readonly path: string;

  /** Makes the error for `path`. */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`registries configuration "${path}": ${problem}`, options);
    this.name = "RegistriesConfError";
    this.path = path;
  }
}

/** An empty configuration (no file found). */
export function emptyConf(): RegistriesConf {
  return { registries: [], aliases: new Map(), files: [] };
}

const DOMAIN_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/**
 * Checks one decoded file and returns what it sets. A version-1 file
 * (`[registries.search]` …) is converted, as containers/image does, but
 * only for the main file: `dropIn` files must be version 2. Pure.
 *
 * @throws {RegistriesConfError} naming `path` and the problem.
 */
export function parseRegistriesConf(
  doc: Record<string, unknown>,
  path: string,
  dropIn = false,
): RegistriesConf {
  const fail = (problem: string): never => {
    throw new RegistriesConfError(path, problem);
  };
  const conf = emptyConf();
  conf.files.push(path);
  const v1 = doc.registries;
  const hasV2 = ["registry", "unqualified-search-registries", "aliases"]
    .some((key) => doc[key] !== undefined);
  if (v1 !== undefined) {
    if (dropIn) fail("a drop-in file must be in the version 2 format");
    if (hasV2) fail("it mixes the version 1 and version 2 formats");
    return fromV1(asTable(v1, "registries", fail), path, fail);
  }
  const search = doc["unqualified-search-registries"];
  if (search !== undefined) {
    const list = stringList(search, "unqualified-search-registries", fail)
      .map((entry) => {
        const location = trimLocation(entry, fail);
        if (!DOMAIN_RE.test(location)) {
          fail(
            `unqualified-search-registries entry "${entry}" is not HOST[:PORT]`,
          );
        }
        return location;
      });
    conf.search = { value: list, origin: path };
  }
  const mode = doc["short-name-mode"];
  if (mode !== undefined && mode !== "") {
    if (mode !== "enforcing" && mode !== "permissive" && mode !== "disabled") {
      fail(
        `short-name-mode "${
          String(mode)
        }" is not enforcing, permissive or disabled`,
      );
    }
    conf.shortNameMode = { value: mode as ShortNameMode, origin: path };
  }
  const registries = doc.registry;
  if (registries !== undefined) {
    if (!Array.isArray(registries)) fail("[[registry]] must be tables");
    for (const [i, table] of (registries as unknown[]).entries()) {
      conf.registries.push(
        registryRule(asTable(table, `registry #${i + 1}`, fail), path, fail),
      );
    }
    checkConflicts(conf.registries, fail);
  }
  const aliases = doc.aliases;
  if (aliases !== undefined) {
    for (
      const [name, value] of Object.entries(asTable(aliases, "aliases", fail))
    ) {
      if (typeof value !== "string") fail(`alias "${name}" is not a string`);
      const problem = shortNameProblem(name) ??
        (value === "" ? undefined : aliasValueProblem(value as string));
      if (problem !== undefined) fail(`alias "${name}": ${problem}`);
      conf.aliases.set(name, {
        value: value === "" ? undefined : value as string,
        origin: path,
      });
    }
  }
  return conf;
}

/**
 * Merges a drop-in file into `base` as containers/image does: `[[registry]]`
 * tables replace those with the same prefix (then sorted by prefix),
 * `unqualified-search-registries` and `short-name-mode` replace the earlier
 * values when set, aliases are merged one by one. Pure: returns a new
 * configuration.
 */
export function mergeConf(
  base: RegistriesConf,
  update: RegistriesConf,
): RegistriesConf {
  const byPrefix = new Map<string, RegistryRule>();
  for (const rule of base.registries) byPrefix.set(rule.prefix, rule);
  for (const rule of update.registries) byPrefix.set(rule.prefix, rule);
  const registries = [...byPrefix.keys()].sort().map((prefix) =>
    byPrefix.get(prefix)!
  );
  return {
    search: update.search ?? base.search,
    shortNameMode: update.shortNameMode ?? base.shortNameMode,
    registries,
    aliases: new Map([...base.aliases, ...update.aliases]),
    files: [...base.files, ...update.files],
  };
}

/**
 * Why `name` cannot be an alias's short name (it has a registry, a tag or a
 * digest), or undefined. Pure.
 */
export function shortNameProblem(name: string): string | undefined {
  if (name === "") return "the short name is empty";
  if (/[@:]/.test(name.split("/").at(-1)!) || name.includes("@")) {
    return "a short name has no tag or digest";
  }
  if (hasRegistry(name)) return "a short name has no registry";
  return undefined;
}

/**
 * Whether the first `/`-separated component of `name` is a registry
 * (`.` or `:` in it, `localhost`, or an upper-case letter), as docker's
 * `splitDockerDomain` decides. Pure.
 */
export function hasRegistry(name: string): boolean {
  const slash = name.indexOf("/");
  if (slash < 0) return false;
  const first = name.slice(0, slash);
  return /[.:]/.test(first) || first === "localhost" ||
    first.toLowerCase() !== first;
}

function aliasValueProblem(value: string): string | undefined {
  if (!hasRegistry(value)) return `"${value}" is not fully qualified`;
  const last = value.split("/").at(-1)!;
  if (last.includes(":") || value.includes("@")) {
    return `"${value}" must not have a tag or digest`;
  }
  return undefined;
}

function registryRule(
  table: Record<string, unknown>,
  path: string,
  fail: (problem: string) => never,
): RegistryRule {
  const location = optionalString(table.location, "location", fail);
  const rawPrefix = optionalString(table.prefix, "prefix", fail);
  if (location === "" && rawPrefix === "") {
    fail("a [[registry]] has neither prefix nor location");
  }
  const prefix = rawPrefix === ""
    ? trimLocation(location, fail)
    : trimLocation(rawPrefix, fail);
  if (location === "" && !prefix.startsWith("*.")) {
    fail(`registry "${prefix}" has no location (only a *.DOMAIN prefix may)`);
  }
  if (prefix.startsWith("*.") && /[/@:]/.test(prefix)) {
    fail(`wildcard prefix "${prefix}" must be of the form *.example.com`);
  }
  const mirrors = table.mirror === undefined
    ? []
    : (Array.isArray(table.mirror) ? table.mirror : fail(
      `registry "${prefix}": mirror must be [[registry.mirror]] tables`,
    )).map((item: unknown) => {
      const mirror = asTable(item, `a mirror of "${prefix}"`, fail);
      const pull = mirror["pull-from-mirror"] ?? "all";
      if (pull !== "all" && pull !== "digest-only" && pull !== "tag-only") {
        fail(
          `pull-from-mirror "${
            String(pull)
          }" is not all, digest-only or tag-only`,
        );
      }
      return {
        location: trimLocation(
          optionalString(mirror.location, "mirror location", fail),
          fail,
        ),
        insecure: flag(mirror.insecure, "insecure", fail),
        pullFromMirror: pull as PullFromMirror,
      };
    });
  const byDigestOnly = flag(
    table["mirror-by-digest-only"],
    "mirror-by-digest-only",
    fail,
  );
  if (byDigestOnly && mirrors.some((m) => m.pullFromMirror !== "all")) {
    fail(
      `registry "${prefix}": mirror-by-digest-only and pull-from-mirror cannot be combined`,
    );
  }
  return {
    prefix,
    location: location === "" ? "" : trimLocation(location, fail),
    insecure: flag(table.insecure, "insecure", fail),
    blocked: flag(table.blocked, "blocked", fail),
    mirrorByDigestOnly: byDigestOnly,
    mirrors,
    origin: path,
  };
}

function fromV1(
  table: Record<string, unknown>,
  path: string,
  fail: (problem: string) => never,
): RegistriesConf {
  const conf = emptyConf();
  conf.files.push(path);
  const list = (key: string) => {
    const section = table[key];
    if (section === undefined) return [];
    const value = asTable(section, `registries.${key}`, fail).registries;
    return value === undefined
      ? []
      : stringList(value, `registries.${key}`, fail);
  };
  const rules = new Map<string, RegistryRule>();
  const rule = (location: string) => {
    const trimmed = trimLocation(location, fail);
    let found = rules.get(trimmed);
    if (found === undefined) {
      found = {
        prefix: trimmed,
        location: trimmed,
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        mirrors: [],
        origin: path,
      };
      rules.set(trimmed, found);
    }
    return found;
  };
  for (const location of list("block")) rule(location).blocked = true;
  for (const location of list("insecure")) rule(location).insecure = true;
  const search = list("search");
  if (search.length > 0) {
    conf.search = {
      value: search.map((s) => trimLocation(s, fail)),
      origin: path,
    };
  }
  conf.registries = [...rules.values()];
  return conf;
}

function checkConflicts(
  rules: RegistryRule[],
  fail: (problem: string) => never,
): void {
  for (const rule of rules) {
    for (const other of rules) {
      if (other.location !== rule.location || other === rule) continue;
      for (const key of ["insecure", "blocked"] as const) {
        if (other[key] !== rule[key]) {
          fail(
            `registry "${rule.location}" is defined more than once with conflicting "${key}" settings`,
          );
        }
      }
    }
  }
}

function trimLocation(
  value: string,
  fail: (problem: string) => never,
): string {
  const trimmed = value.replace(/\/+$/, "");
  if (trimmed === "") fail("a location is empty");
  if (/^https?:\/\//.test(trimmed)) {
    fail(`location "${value}": URI schemes are not supported`);
  }
  return trimmed;
}

function asTable(
  value: unknown,
  what: string,
  fail: (problem: string) => never,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${what} must be a table`);
  }
  return value as Record<string, unknown>;
}

function stringList(
  value: unknown,
  what: string,
  fail: (problem: string) => never,
): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    fail(`${what} must be an array of strings`);
  }
  return [...value as string[]];
}

function optionalString(
  value: unknown,
  what: string,
  fail: (problem: string) => never,
): string {
  if (value === undefined) return "";
  if (typeof value !== "string") fail(`${what} must be a string`);
  return value as string;
}

function flag(
  value: unknown,
  what: string,
  fail: (problem: string) => never,
): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") fail(`${what} must be true or false`);
  return value as boolean;
}
