/**
 * Owners and modes of an entry extracted without root, as the image had
 * them. Extraction recorded in the metadata (`ownership`) each path whose
 * owner was not 0:0, whose mode on disk differs (setuid/setgid dropped,
 * directories kept `u+rwx`), and each device node it skipped; a path
 * without a record is owned by 0:0.
 *
 * On disk, the user's own uid stands for 0 (root emulation), and ids of the
 * user's first subordinate range (`--id-map full`) for 1 upwards, as in the
 * user namespaces exec makes.
 *
 * @module
 */

import type { SubIdRange } from "../../process/subids.ts";
import type { OwnerRecord } from "../layers/ownership.ts";
import type { EntryNode, EntryTree, OwnerSource } from "./entry_tree.ts";

/** The mode extraction put on disk for an image mode. Pure. */
export function diskModeOf(mode: number, dir: boolean): number {
  return (dir ? mode | 0o700 : mode) & ~0o6000 & 0o7777;
}

/** The image's id for a host id seen on disk. Pure. */
export function imageId(
  host: number,
  own: number,
  ranges: readonly SubIdRange[],
): number {
  if (host === own) return 0;
  const first = ranges[0];
  if (first && host >= first.start && host < first.start + first.count) {
    return host - first.start + 1;
  }
  return host;
}

/**
 * The {@linkcode OwnerSource} of an unprivileged entry: a recorded owner
 * and mode win while the mode on disk is still what extraction put there
 * (a later `chmod` in the entry is the new mode); otherwise owners are
 * mapped back as {@linkcode imageId} says.
 */
export function recordedOwners(
  records: Readonly<Record<string, OwnerRecord>>,
  ids: { uid: number; gid: number; uids: SubIdRange[]; gids: SubIdRange[] },
): OwnerSource {
  return (key, info, type) => {
    const disk = (info.mode ?? 0) & 0o7777;
    const record = records[`/${key}`];
    const uid = imageId(info.uid ?? 0, ids.uid, ids.uids);
    const gid = imageId(info.gid ?? 0, ids.gid, ids.gids);
    if (record === undefined || record.device !== undefined) {
      return { uid, gid, mode: disk };
    }
    const kept = diskModeOf(record.mode, type === "dir") === disk;
    return {
      uid: record.uid,
      gid: record.gid,
      mode: kept ? record.mode & 0o7777 : disk,
    };
  };
}

/**
 * Adds the device nodes extraction skipped (recorded, absent on disk, in a
 * directory that is still there) to `entry`, so they stay in the image.
 */
export function addRecordedDevices(
  entry: EntryTree,
  records: Readonly<Record<string, OwnerRecord>>,
  mtimeOf: (key: string) => number,
): void {
  for (const [path, record] of Object.entries(records)) {
    if (record.device === undefined) continue;
    const key = path.replace(/^\/+/, "");
    const slash = key.lastIndexOf("/");
    const dir = slash < 0 ? "" : key.slice(0, slash);
    const names = entry.children.get(dir);
    if (entry.nodes.has(key) || names === undefined) continue;
    const node: EntryNode = {
      type: record.device.type,
      mode: record.mode & 0o7777,
      uid: record.uid,
      gid: record.gid,
      size: 0,
      mtime: mtimeOf(key),
      devmajor: record.device.major,
      devminor: record.device.minor,
    };
    entry.nodes.set(key, node);
    names.push(key.slice(slash + 1));
    names.sort();
  }
}
