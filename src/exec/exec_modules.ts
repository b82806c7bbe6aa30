/**
 * Modules `exec` needs only for rare runs, loaded when such a run asks for
 * them, through a computed specifier: a literal one, static or in `import()`,
 * would make Deno read them before `main.ts` runs, on every `exec`. The
 * seccomp filter builder is for faked ownership (bubblewrap without real
 * root), the subordinate-id reader for full id maps (not real root), the
 * emulation probe for an image of another architecture. `deno compile`
 * cannot see these imports, so the compile task passes every file listed
 * here with `--include` (`compileIncludes()` in `src/permissions.ts`).
 *
 * @module
 */

/** Each rare module, by name, relative to this folder. */
export const EXEC_LAZY_MODULES = {
  seccomp: "../backends/seccomp.ts",
  subids: "../process/subids.ts",
  emulationHost: "../backends/emulation_host.ts",
  binfmtHost: "../backends/binfmt_host.ts",
} as const;

/** Imports the rare module `name`; the caller states its type. */
export function loadExecLazy<T>(
  name: keyof typeof EXEC_LAZY_MODULES,
): Promise<T> {
  return import(new URL(EXEC_LAZY_MODULES[name], import.meta.url).href);
}

/** The rare modules' files as paths from the repository root. Pure. */
export function execLazyFiles(): string[] {
  return Object.values(EXEC_LAZY_MODULES).map((relative) =>
    `src/${relative.slice(3)}`
  );
}
