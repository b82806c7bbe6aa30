/**
 * Store work on entries whose files belong to the user's subordinate ids
 * (made in `--id-map full` mode): as `podman unshare` does, the work runs as
 * uid 0 in a user namespace with the same full maps, where those files are
 * the namespace's own. Used to remove such trees (`rm`, `prune`, the end of
 * `exec --ephemeral`) and to copy them with their owners (`clone`).
 *
 * Nothing here applies to real root, or where full maps cannot be made.
 *
 * Permissions: `--allow-read` (`/etc`, PATH), `--allow-run=unshare`
 * ({@linkcode MAPPED_PROGRAMS}): `rm` and `cp` run as unshare's command,
 * never spawned by polythene itself.
 *
 * @module
 */

import { runCaptured } from "../process/spawn.ts";
import {
  detectFullMapHost,
  type FullMapHost,
  fullMapsMissing,
  inFullMaps,
} from "../process/subids.ts";
import { which } from "../process/which.ts";

/** Programs started here. */
export const MAPPED_PROGRAMS = ["unshare"] as const;

const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" +
  "/sbin:/bin";

/** The host's PATH for the helper programs. */
function hostPath(): string {
  return Deno.env.get("PATH") || FALLBACK_PATH;
}

/**
 * What full maps need, when this non-root user can make them; else
 * undefined.
 */
export function fullMapHost(path = hostPath()): FullMapHost | undefined {
  const uid = Deno.uid();
  if (uid === null || uid === 0) return undefined;
  const host = detectFullMapHost(uid, path);
  return fullMapsMissing(host) === undefined ? host : undefined;
}

/**
 * Removes the tree at `path` as uid 0 in the user's full maps
 * (`rm -rf --one-file-system`; `rm` never follows a symlink).
 *
 * @returns false when full maps cannot be made here or `rm` failed.
 */
export async function removeMapped(path: string): Promise<boolean> {
  const host = fullMapHost();
  const rm = which("rm", hostPath())?.path;
  if (host === undefined || rm === undefined) return false;
  const run = inFullMaps(host, [rm, "-rf", "--one-file-system", "--", path]);
  const out = await runCaptured(run.argv, { ...run.env, LC_ALL: "C" });
  return out.code === 0;
}

/**
 * `argv` as it should run to copy a tree with its owners: inside the full
 * maps when they can be made here, else unchanged. Pure but for the host
 * lookup.
 */
export function copyInMappedIds(
  argv: readonly string[],
  env: Record<string, string>,
): { argv: string[]; env: Record<string, string> } {
  const host = fullMapHost(env.PATH);
  if (host === undefined) return { argv: [...argv], env };
  const run = inFullMaps(host, argv);
  return {
    argv: run.argv,
    env: { ...env, PATH: `${env.PATH}:${run.env.PATH}` },
  };
}
