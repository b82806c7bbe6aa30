/**
 * Path helpers shared by the store and the process seam. Pure but for the
 * default working directory.
 *
 * @module
 */

/**
 * `path` made absolute against the working directory, with `.`, `..` and
 * repeated slashes folded, as `node:path`'s `resolve` does (kept off
 * `exec`'s start-up path). `..` at the top stays at `/`.
 */
export function absolutePath(path: string, cwd = () => Deno.cwd()): string {
  const full = path.startsWith("/") ? path : `${cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
