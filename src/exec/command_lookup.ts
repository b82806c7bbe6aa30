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
  for (const candidate of candidatesOf(program, pathVar, cwd)) {
    const host = resolveInRoot(root, candidate);
    if (host !== undefined && isExecutableFile(host)) return candidate;
  }
  return undefined;
}

/**
 * Why `program` cannot be executed when {@linkcode lookupCommand} found no
 * executable file but the search met something by that name: the first
 * such candidate and what it is (`a directory`, `not executable`), as a
 * shell would report it with exit 126. Undefined when there is nothing by
 * that name (exit 127).
 */
export function unexecutableCommand(
  root: string,
  program: string,
  pathVar: string,
  cwd = "/",
): { path: string; why: string } | undefined {
  for (const candidate of candidatesOf(program, pathVar, cwd)) {
    const host = resolveInRoot(root, candidate);
    if (host === undefined) continue;
    try {
      const info = Deno.statSync(host);
      if (info.isDirectory) return { path: candidate, why: "a directory" };
      return {
        path: candidate,
        why: info.isFile ? "not executable" : "not a regular file",
      };
    } catch {
      // Nothing there: keep looking.
    }
  }
  return undefined;
}

function candidatesOf(program: string, pathVar: string, cwd: string) {
  if (program === "") return [];
  return program.includes("/")
    ? [program.startsWith("/") ? program : `${cwd}/${program}`]
    : pathVar.split(":").filter((d) => d !== "").map((d) => `${d}/${program}`);
}

/**
 * The interpreter a script's `#!` line names, when that interpreter is not an
 * executable file inside the rootfs; undefined otherwise (not a script, or
 * its interpreter is there). Checked before any backend starts, so a script
 * whose interpreter is missing is exit 127 on every backend alike, and is
 * never mistaken for a backend that failed while setting up.
 *
 * @param root The rootfs.
 * @param program The program's path inside the rootfs.
 */
export function missingInterpreter(
  root: string,
  program: string,
): string | undefined {
  const host = resolveInRoot(root, program);
  if (host === undefined) return undefined;
  let head: Uint8Array;
  try {
    const file = Deno.openSync(host, { read: true });
    try {
      head = new Uint8Array(256);
      head = head.subarray(0, file.readSync(head) ?? 0);
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined; // "#!"
  const line = new TextDecoder().decode(head.subarray(2)).split("\n")[0]!;
  const interpreter = line.trim().split(/\s+/)[0] ?? "";
  if (!interpreter.startsWith("/")) return undefined;
  const resolved = resolveInRoot(root, interpreter);
  return resolved !== undefined && isExecutableFile(resolved)
    ? undefined
    : interpreter;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
