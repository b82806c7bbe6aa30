/**
 * Mount points inside a rootfs, found and made without ever leaving it.
 *
 * A bind's target is resolved the way the kernel would after `chroot`
 * (symlinks relative to the rootfs, `..` stopping at its root), and missing
 * components are created with calls that never follow a symlink in the last
 * component (`mkdir`, and `open` with `O_EXCL`). Nothing is mounted or
 * created under `/proc`, `/dev` or `/sys`, where the backends mount file
 * systems of their own. The backends are then given the resolved path, which
 * holds no symlink.
 *
 * Another run's command may rename things in the same rootfs meanwhile (exec
 * takes a shared lock), e.g. swap a directory for a symlink to a host path
 * between the check and the `mkdir`. Deno has no `openat`, and turns every
 * relative path into an absolute one, so a missing component is made by a
 * fixed `sh` script ({@linkcode CREATE_SCRIPT}) from inside its directory: it
 * `cd`s down the resolved components one at a time, checks after each step
 * with `pwd -P` (getcwd) that it is where it expected (a swapped-in symlink
 * would have taken it elsewhere), and then creates the name relative to that
 * directory, which it holds as its working directory whatever happens to the
 * names above it. See docs/design.md, "Mount points and concurrent runs".
 *
 * Permissions: `--allow-read` and `--allow-write` on the rootfs,
 * `--allow-run=sh` when something is missing.
 *
 * @module
 */

import { DEFAULT_PATH } from "../backends/backend.ts";
import { ExitCode, PolytheneError } from "../errors.ts";
import { runCapturedSync } from "../process/spawn.ts";
import { recordCreated } from "../store/created_paths.ts";
import { walkInRoot } from "./resolve_in_root.ts";
import { sandboxMountOf } from "./rootfs_shape.ts";

/**
 * How a missing component is made: the absolute path of the `sh` that runs
 * {@linkcode CREATE_SCRIPT}, or a function given the resolved components of
 * its directory, its name and kind, which makes or records it (an overlay
 * run records them, and they are made in its merged tree: `overlay.ts`).
 */
export type MountPointMaker =
  | string
  | ((dir: readonly string[], name: string, kind: "dir" | "file") => void);

/**
 * Resolves `path` inside `root`, creating what is missing: directories, and
 * for `kind` `"file"` an empty last component, with `sh` (see
 * {@linkcode MountPointMaker}). What it creates is appended to the entry's
 * record of created paths (`created_paths.ts`), which `commit` leaves out of
 * images.
 *
 * @returns The resolved absolute path inside the rootfs (no symlinks).
 * @throws {PolytheneError} (exit 2) when a component is not a directory,
 * the last one is not of `kind`, symlinks loop, or it resolves to `/` or
 * under `/proc`, `/dev` or `/sys` (nothing is created there).
 */
export function mountPointInRoot(
  root: string,
  path: string,
  kind: "dir" | "file",
  sh: MountPointMaker,
): string {
  const fail = (why: string) =>
    new PolytheneError(`Cannot mount on "${path}" inside the rootfs: ${why}`, {
      exitCode: ExitCode.Usage,
    });
  const under = (mount: string) =>
    fail(`it is under ${mount}, which the sandbox mounts itself`);
  let real: string | undefined;
  const walk = walkInRoot(root, path, (host, last, dir, name) => {
    const mount = sandboxMountOf(host.slice(root.length + 1).split("/"));
    if (mount !== undefined) throw under(mount);
    try {
      if (typeof sh === "string") {
        real ??= Deno.realPathSync(root);
        createHeld(sh, real, dir, name, last ? kind : "dir");
      } else sh(dir, name, last ? kind : "dir");
    } catch (error) {
      throw fail(`cannot create "${host}": ${(error as Error).message}`);
    }
    recordCreated(root, [`/${[...dir, name].join("/")}`]);
    return true;
  });
  if (!walk.ok) {
    switch (walk.stop) {
      case "loop":
        throw fail("too many symlinks");
      case "not-a-directory":
        throw fail(`"${walk.part}" is not a directory`);
      default:
        throw fail(String(walk.error));
    }
  }
  const mount = sandboxMountOf(walk.parts);
  if (mount !== undefined) throw under(mount);
  const info = walk.info;
  if (info !== undefined && kind === "dir" && !info.isDirectory) {
    throw fail("it is not a directory");
  }
  if (info !== undefined && kind === "file" && info.isDirectory) {
    throw fail("it is a directory, and the source is not");
  }
  if (walk.parts.length === 0) throw fail("it is the rootfs itself");
  return `/${walk.parts.join("/")}`;
}

/**
 * The fixed script that creates one missing component from inside its
 * directory: `$1` the rootfs (a real path), `$2` `dir` or `file`, `$3` the
 * name, then the resolved components of its directory. It steps down with
 * `cd -P`, checks with `pwd -P` (getcwd) after each step that it is where it
 * expected, and creates the name relative to the directory it is in:
 * `mkdir`, or a `noclobber` redirection (`O_EXCL`). Names are positional
 * parameters, never part of the script.
 */
export const CREATE_SCRIPT = `set -eu
root=$1 kind=$2 name=$3
shift 3
cd -P -- "$root"
here=$root
for part in "$@"; do
  cd -P -- "./$part"
  here=\${here%/}/$part
  if [ "$(pwd -P)" != "$here" ]; then
    echo "\"$here\" changed while it was being prepared" >&2
    exit 1
  fi
done
if [ "$kind" = dir ]; then mkdir -m 0755 -- "./$name"; else set -C; : > "./$name"; fi
`;

/**
 * Creates `name` (a directory, or an empty file) in the directory reached by
 * the symlink-free components `dir` under `root` (a real path), from inside
 * that directory with `sh` (see {@linkcode CREATE_SCRIPT}): Deno turns every
 * relative path into an absolute one before the system call, so it cannot
 * work from a directory it holds.
 *
 * @throws {Error} when a component is no longer where it was (moved, or
 * replaced by a symlink), or the creation fails; the message is `sh`'s.
 */
export function createHeld(
  sh: string,
  root: string,
  dir: readonly string[],
  name: string,
  kind: "dir" | "file",
): void {
  const result = runCapturedSync(
    [
      sh,
      "-c",
      CREATE_SCRIPT,
      "polythene-mount-point",
      root,
      kind,
      name,
      ...dir,
    ],
    { PATH: DEFAULT_PATH },
  );
  if (result.code !== 0) {
    throw new Error(
      result.stderr.trim().split("\n").at(-1) ?? `exit ${result.code}`,
    );
  }
}

/**
 * A {@linkcode MountPointMaker} that only records what is missing, each path
 * once, parents first, in `into`.
 */
export function recordMountPoints(
  into: { kind: "dir" | "file"; path: string }[],
): MountPointMaker {
  return (dir, name, kind) => {
    const path = `/${[...dir, name].join("/")}`;
    if (!into.some((c) => c.path === path)) into.push({ kind, path });
  };
}
