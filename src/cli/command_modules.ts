/**
 * Where each command's module is, and how the dispatcher loads it.
 *
 * The dispatcher imports a command's module only when that command runs, and
 * through a computed specifier, never a string literal: Deno reads, ahead of
 * time, the whole graph behind every `import("./literal.ts")` in a module it
 * loads, so literal specifiers would make `exec` (the hot path) read `pull`'s
 * graph, with its npm packages, on every run. `deno compile` cannot see a
 * computed specifier either, so the compile task passes every file listed
 * here with `--include` (`compileIncludes()` in `src/permissions.ts`).
 *
 * This module imports nothing, so that `src/permissions.ts` can list the
 * files without loading the CLI.
 *
 * @module
 */

/** Each command's module, by command name: a file in `src/cli/`. */
export const COMMAND_MODULES = {
  pull: "pull.ts",
  exec: "exec.ts",
  list: "list.ts",
  inspect: "inspect.ts",
  rm: "rm.ts",
  prune: "prune.ts",
  clone: "clone.ts",
  doctor: "doctor.ts",
  completions: "completions.ts",
  run: "run.ts",
  push: "push.ts",
  commit: "commit.ts",
  export: "export.ts",
} as const;

/** A command that has a module of its own. */
export type ModuleCommand = keyof typeof COMMAND_MODULES;

/**
 * Modules that a command's module loads lazily in turn, by name, relative to
 * this folder, under the same rule (for instance `exec --ephemeral`, which a
 * plain `exec` never needs).
 */
export const LAZY_MODULES = {
  ephemeral: "../exec/ephemeral.ts",
  progress: "progress.ts",
} as const;

/** The module of `command`, as a URL beside this file. Pure. */
export function commandModuleUrl(command: ModuleCommand): string {
  return new URL(`./${COMMAND_MODULES[command]}`, import.meta.url).href;
}

/**
 * Imports the module of `command`. The caller states the module's type
 * (`typeof import("./exec.ts")`, a type-only reference that Deno does not
 * load at run time).
 */
export function loadCommand<T>(command: ModuleCommand): Promise<T> {
  return import(commandModuleUrl(command));
}

/** Imports the lazy module `name`; the caller states its type. */
export function loadLazy<T>(name: keyof typeof LAZY_MODULES): Promise<T> {
  return import(new URL(LAZY_MODULES[name], import.meta.url).href);
}

/**
 * Every file the CLI loads through a computed specifier, as a path from the
 * repository root, for `deno compile --include`. Pure.
 */
export function lazyModuleFiles(): string[] {
  const fromRoot = (relative: string) =>
    relative.startsWith("../")
      ? `src/${relative.slice(3)}`
      : `src/cli/${relative}`;
  return [
    ...Object.values(COMMAND_MODULES),
    ...Object.values(LAZY_MODULES),
  ].map(fromRoot);
}
