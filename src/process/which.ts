/**
 * Finds programs on a PATH without starting a process.
 *
 * Permissions: `--allow-read` on the PATH directories.
 *
 * @module
 */

import { absolutePath } from "../path.ts";

/** A program found on PATH, with what identifies its build. */
export interface FoundProgram {
  /** Absolute path of the executable. */
  path: string;
  /** `size:mtime:ino` of the file: changes whenever the binary does. */
  fingerprint: string;
}

/**
 * Looks `name` up in each directory of `pathVar` (colon-separated), the way
 * `execvp` would: the first regular file with an execute bit wins. A
 * relative entry is taken from the working directory, as Deno does when it
 * resolves `--allow-run` names at start-up, so the program found here is the
 * one Deno allows (a mismatch would be refused as `NotCapable`).
 *
 * @returns The program, or undefined when it is not on PATH.
 */
export function which(
  name: string,
  pathVar: string,
  cwd: () => string = () => Deno.cwd(),
): FoundProgram | undefined {
  for (const entry of pathVar.split(":")) {
    if (entry === "") continue;
    const path = absolutePath(`${entry}/${name}`, cwd);
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
