/**
 * Finds and reads registries.conf and its drop-in files the way
 * containers/image does, and merges them:
 *
 * - `CONTAINERS_REGISTRIES_CONF` names the main file (it must exist); the
 *   drop-ins of `/etc/containers/registries.conf.d` and
 *   `$HOME/.config/containers/registries.conf.d` still apply;
 * - else `$HOME/.config/containers/registries.conf`, when it exists, is the
 *   main file and only the user's drop-in directory applies;
 * - else `/etc/containers/registries.conf` (a missing one is an empty
 *   configuration) with both drop-in directories.
 *
 * Drop-ins are the `*.conf` files of each directory in name order, system
 * directory first.
 *
 * As root, a file another user could have written is refused, not read
 * ({@linkcode unsafeConfProblem}): the configuration chooses where images
 * come from (mirrors, `insecure`, aliases), so a file owned by another user,
 * or writable by group or others, or in a directory they may write (a
 * `$HOME` of another user, a drop-in directory open to all), would let that
 * user choose what root runs. The TOML parser is imported here on first use, so that
 * only pulls load it.
 *
 * Permissions: `--allow-read` of those files; `--allow-env` for
 * `CONTAINERS_REGISTRIES_CONF` and `HOME` (through `env`).
 *
 * @module
 */

import {
  emptyConf,
  mergeConf,
  parseRegistriesConf,
  type RegistriesConf,
  RegistriesConfError,
} from "./conf.ts";

/** The system's main file. */
export const SYSTEM_REGISTRIES_CONF = "/etc/containers/registries.conf";
/** The system's drop-in directory. */
export const SYSTEM_REGISTRIES_CONF_D = "/etc/containers/registries.conf.d";
/** The user's main file and directory, under `$HOME`. */
export const USER_REGISTRIES_CONF = ".config/containers/registries.conf";

/** Which files to read. */
export interface ConfPaths {
  /** The main file. */
  main: string;
  /** Whether a missing main file is an error (it was named explicitly). */
  mainRequired: boolean;
  /** Drop-in directories, in order. */
  dropInDirs: string[];
}

/** Inputs of {@linkcode registriesConfPaths}. */
export interface ConfPathsInput {
  /** `CONTAINERS_REGISTRIES_CONF`. */
  override?: string;
  /** `$HOME`. */
  home?: string;
  /** Whether `$HOME/.config/containers/registries.conf` exists. */
  userFileExists: boolean;
  /** Prefix of the system paths (containers/image's implicit root); default "". */
  root?: string;
}

/** containers/image's choice of files. Pure. */
export function registriesConfPaths(input: ConfPathsInput): ConfPaths {
  const root = input.root ?? "";
  const userFile = input.home ? `${input.home}/${USER_REGISTRIES_CONF}` : "";
  const userDir = userFile ? [`${userFile}.d`] : [];
  const systemDir = `${root}${SYSTEM_REGISTRIES_CONF_D}`;
  if (input.override) {
    return {
      main: input.override,
      mainRequired: true,
      dropInDirs: [systemDir, ...userDir],
    };
  }
  if (userFile && input.userFileExists) {
    return { main: userFile, mainRequired: false, dropInDirs: userDir };
  }
  return {
    main: `${root}${SYSTEM_REGISTRIES_CONF}`,
    mainRequired: false,
    dropInDirs: [systemDir, ...userDir],
  };
}

/** Options of {@linkcode loadRegistriesConf}. */
export interface LoadOptions {
  /** The environment (`CONTAINERS_REGISTRIES_CONF`, `HOME`). */
  env: (name: string) => string | undefined;
  /** Prefix of the system paths; default "" (tests point it elsewhere). */
  root?: string;
  /** The uid polythene runs as; default `Deno.uid()`. */
  uid?: number;
}

/** What {@linkcode unsafeConfProblem} looks at (from `stat`). */
export interface ConfFileFacts {
  uid: number | null;
  mode: number | null;
}

/**
 * Why root may not trust a configuration file, its directory, or a drop-in
 * directory with these facts, or undefined. Owned by root and writable by
 * root alone; a file's directory may also be sticky (`/tmp`), where others
 * cannot replace root's file. Pure.
 */
export function unsafeConfProblem(
  facts: ConfFileFacts,
  what: "file" | "its directory" | "drop-in directory",
): string | undefined {
  const mode = facts.mode ?? 0;
  if (facts.uid !== null && facts.uid !== 0) {
    return `as root, ${
      what === "file" ? "it" : what
    } must belong to root, not to uid ${facts.uid}`;
  }
  const sticky = what === "its directory" && (mode & 0o1000) !== 0;
  if ((mode & 0o022) !== 0 && !sticky) {
    return `as root, ${
      what === "file" ? "it" : what
    } must be writable by root alone (mode ${
      (mode & 0o7777).toString(8).padStart(4, "0")
    })`;
  }
  return undefined;
}

/**
 * Reads and merges the configuration.
 *
 * @throws {RegistriesConfError} naming the file that cannot be read or used.
 */
export async function loadRegistriesConf(
  options: LoadOptions,
): Promise<RegistriesConf> {
  const home = options.env("HOME") || undefined;
  const paths = registriesConfPaths({
    override: options.env("CONTAINERS_REGISTRIES_CONF") || undefined,
    home,
    userFileExists: home !== undefined &&
      await exists(`${home}/${USER_REGISTRIES_CONF}`),
    root: options.root,
  });
  const asRoot = (options.uid ?? Deno.uid()) === 0;
  let conf = emptyConf();
  const main = await readToml(paths.main, asRoot);
  if (main !== undefined) {
    conf = parseRegistriesConf(main, paths.main);
  } else if (paths.mainRequired) {
    throw new RegistriesConfError(
      paths.main,
      "no such file (named by CONTAINERS_REGISTRIES_CONF)",
    );
  }
  for (const dir of paths.dropInDirs) {
    for (const path of await dropIns(dir, asRoot)) {
      const doc = await readToml(path, asRoot);
      if (doc === undefined) continue;
      conf = mergeConf(conf, parseRegistriesConf(doc, path, true));
    }
  }
  return conf;
}

/** The `*.conf` files of `dir`, sorted; none when it does not exist. */
async function dropIns(dir: string, asRoot: boolean): Promise<string[]> {
  const names: string[] = [];
  try {
    if (asRoot) await checkOwner(dir, "drop-in directory", dir);
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".conf") && !entry.isDirectory) {
        names.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    if (error instanceof RegistriesConfError) throw error;
    throw new RegistriesConfError(dir, describe(error), { cause: error });
  }
  return names.sort().map((name) => `${dir}/${name}`);
}

/** The decoded file, or undefined when it does not exist. */
async function readToml(
  path: string,
  asRoot: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    if (asRoot) {
      await checkOwner(path, "file", path);
      await checkOwner(
        path.slice(0, path.lastIndexOf("/")) || "/",
        "its directory",
        path,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof RegistriesConfError) throw error;
    throw new RegistriesConfError(path, describe(error), { cause: error });
  }
  const { parse } = await import("../../npm/smol_toml.ts");
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new RegistriesConfError(
      path,
      `not valid TOML: ${describe(error).split("\n")[0]}`,
      { cause: error },
    );
  }
}

/**
 * Throws naming `file` when `path` (followed, as reading it would be) fails
 * {@linkcode unsafeConfProblem}.
 */
async function checkOwner(
  path: string,
  what: "file" | "its directory" | "drop-in directory",
  file: string,
): Promise<void> {
  const info = await Deno.stat(path);
  const problem = unsafeConfProblem(info, what);
  if (problem !== undefined) throw new RegistriesConfError(file, problem);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
