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
 * directory first. The TOML parser is imported here on first use, so that
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
  let conf = emptyConf();
  const main = await readToml(paths.main);
  if (main !== undefined) {
    conf = parseRegistriesConf(main, paths.main);
  } else if (paths.mainRequired) {
    throw new RegistriesConfError(
      paths.main,
      "no such file (named by CONTAINERS_REGISTRIES_CONF)",
    );
  }
  for (const dir of paths.dropInDirs) {
    for (const path of await dropIns(dir)) {
      const doc = await readToml(path);
      if (doc === undefined) continue;
      conf = mergeConf(conf, parseRegistriesConf(doc, path, true));
    }
  }
  return conf;
}

/** The `*.conf` files of `dir`, sorted; none when it does not exist. */
async function dropIns(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".conf") && !entry.isDirectory) {
        names.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new RegistriesConfError(dir, describe(error), { cause: error });
  }
  return names.sort().map((name) => `${dir}/${name}`);
}

/** The decoded file, or undefined when it does not exist. */
async function readToml(
  path: string,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
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
