/**
 * Where each backend's module is, and how `exec` loads only the one it uses.
 *
 * The fallback loop (`run.ts`) imports a backend's module when it reaches
 * that backend, through a computed specifier: a literal one, static or in
 * `import()`, would make Deno read every backend's graph before `main.ts`
 * runs, and a warm `exec` on bubblewrap would load proot's and chroot's
 * modules for nothing. `deno compile` cannot see these imports, so the
 * compile task passes every file listed here with `--include`
 * (`compileIncludes()` in `src/permissions.ts`). Commands that need every
 * backend at once (`doctor`, the permission list) import `mod.ts`.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import type { BackendName } from "./names.ts";

/** Each backend's module, a file in this folder that exports it by name. */
export const BACKEND_MODULES: Readonly<Record<BackendName, string>> = {
  bubblewrap: "bubblewrap.ts",
  proot: "proot.ts",
  chroot: "chroot.ts",
};

/** The module of backend `name`, as a URL beside this file. Pure. */
export function backendModuleUrl(name: BackendName): string {
  return new URL(`./${BACKEND_MODULES[name]}`, import.meta.url).href;
}

/** Imports backend `name`'s module and returns the backend it exports. */
export async function loadBackend(name: BackendName): Promise<Backend> {
  const module = await import(backendModuleUrl(name));
  const backend = module[name] as Backend | undefined;
  if (backend?.name !== name) {
    throw new TypeError(`${BACKEND_MODULES[name]} does not export ${name}`);
  }
  return backend;
}

/** The backends' files as paths from the repository root. Pure. */
export function backendModuleFiles(): string[] {
  return Object.values(BACKEND_MODULES).map((file) => `src/backends/${file}`);
}
