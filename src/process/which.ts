/**
 * Finds programs on a PATH without starting a process.
 *
 * Permissions: `--allow-read` on the PATH directories.
 *
 * @module
 */

/** A program found on PATH, with what identifies its build. */
export interface FoundProgram {
  /** Absolute path of the executable. */
  path: string;
  /** `size:mtime:ino` of the file: changes whenever the binary does. */
  fingerprint: string;
}

/**
 * Looks `name` up in each directory of `pathVar` (colon-separated), the way
 * `execvp` would: the first regular file with an execute bit wins.
 *
 * @returns The program, or undefined when it is not on PATH.
 */
export function which(name: string, pathVar: string): FoundProgram | undefined {
  for (const dir of pathVar.split(":")) {
    if (dir === "" || !dir.startsWith("/")) continue;
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) {
        return {
          path,
          fingerprint: `${info.size}:${info.mtime?.getTime() ?? 0}:${
            info.ino ?? 0
          }`,
        };
      }
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}
