/**
 * Finds the command's program inside the rootfs before any backend starts,
 * so a missing command is exit 127 on every backend alike.
 *
 * @module
 */

import { resolveInRoot } from "./resolve_in_root.ts";

/**
 * Looks `program` up inside `root` the way `execvp` would there: a name
 * with a `/` is taken as a path from `cwd`, anything else is searched for in
 * `pathVar`. Only executable regular files count.
 *
 * @returns The path inside the rootfs, or undefined when not found.
 */
export function lookupCommand(
  root: string,
  program: string,
  pathVar: string,
  cwd = "/",
): string | undefined {
  if (program === "") return undefined;
  const candidates = program.includes("/")
    ? [program.startsWith("/") ? program : `${cwd}/${program}`]
    : pathVar.split(":").filter((d) => d !== "").map((d) => `${d}/${program}`);
  for (const candidate of candidates) {
    const host = resolveInRoot(root, candidate);
    if (host !== undefined && isExecutableFile(host)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
