/**
 * Subordinate ids (`/etc/subuid`, `/etc/subgid`) and the setuid helpers
 * that map them (`newuidmap`, `newgidmap`, Debian's `uidmap` package), as
 * podman uses them: with both, `unshare --user --map-auto --map-root-user`
 * maps uid 0 inside to the user and 1.. to the user's ranges.
 *
 * Permissions: `--allow-read` on `/etc` and the PATH directories.
 *
 * @module
 */

import { which } from "./which.ts";

/** One `NAME:START:COUNT` (or `UID:START:COUNT`) line. */
export interface SubIdRange {
  /** First host id. */
  start: number;
  /** How many. */
  count: number;
}

/**
 * The ranges `/etc/subuid`-style `text` grants to the user named `name`
 * with id `id` (lines name the user or its number). Pure.
 */
export function parseSubIds(
  text: string,
  name: string | undefined,
  id: number,
): SubIdRange[] {
  const ranges: SubIdRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [owner, start, count] = line.split(":");
    if (owner !== name && owner !== String(id)) continue;
    if (!/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "")) continue;
    if (Number(count) === 0) continue;
    ranges.push({ start: Number(start), count: Number(count) });
  }
  return ranges;
}

/** The name of `uid` in `/etc/passwd`-style `text`, if listed. Pure. */
export function userName(text: string, uid: number): string | undefined {
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (name && id === String(uid)) return name;
  }
  return undefined;
}

/** What full id maps need on this host, as found. */
export interface FullMapHost {
  /** The user's ranges in `/etc/subuid`. */
  uids: SubIdRange[];
  /** The user's ranges in `/etc/subgid`. */
  gids: SubIdRange[];
  /** Paths of `unshare`, `newuidmap` and `newgidmap`, when on PATH. */
  unshare?: string;
  newuidmap?: string;
  newgidmap?: string;
  /** The user's name, when `/etc/passwd` lists it. */
  user?: string;
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Reads what full maps need for `uid`, with programs looked up on `path`. */
export function detectFullMapHost(
  uid: number,
  path: string,
  etc = "/etc",
): FullMapHost {
  const user = userName(readOr(`${etc}/passwd`), uid);
  return {
    user,
    uids: parseSubIds(readOr(`${etc}/subuid`), user, uid),
    gids: parseSubIds(readOr(`${etc}/subgid`), user, uid),
    unshare: which("unshare", path)?.path,
    newuidmap: which("newuidmap", path)?.path,
    newgidmap: which("newgidmap", path)?.path,
  };
}

/**
 * Why full maps cannot be made here (one line), or undefined when they can.
 * Pure.
 */
export function fullMapsMissing(host: FullMapHost): string | undefined {
  const who = host.user ?? "this user";
  if (host.newuidmap === undefined || host.newgidmap === undefined) {
    return "newuidmap/newgidmap are not on PATH";
  }
  if (host.unshare === undefined) return "unshare is not on PATH";
  if (host.uids.length === 0) return `${who} has no range in /etc/subuid`;
  if (host.gids.length === 0) return `${who} has no range in /etc/subgid`;
  return undefined;
}

/**
 * `unshare` argv that runs `argv` as uid 0 in a new user namespace with the
 * user's full maps (and PATH for the helpers `unshare` runs). Pure.
 */
export function inFullMaps(
  host: FullMapHost,
  argv: readonly string[],
): { argv: string[]; env: Record<string, string> } {
  const dirs = [host.newuidmap!, host.newgidmap!].map((p) =>
    p.slice(0, p.lastIndexOf("/"))
  );
  return {
    argv: [
      host.unshare!,
      "--user",
      "--map-auto",
      "--map-root-user",
      "--",
      ...argv,
    ],
    env: { PATH: [...new Set(dirs)].join(":") },
  };
}
