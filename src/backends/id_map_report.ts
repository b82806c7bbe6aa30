/**
 * The id-mapping part of `doctor`: the mode each backend would use for a
 * root run as this user, why, what happens to ownership, and how to get full
 * maps. Pure; the host lookup is done by the caller.
 *
 * @module
 */

import {
  chooseIdMap,
  FULL_MAP_FIX,
  type IdMapChoice,
  OWNERSHIP,
} from "./id_map.ts";
import type { BackendName } from "./names.ts";

/** One backend's id mapping. */
export interface IdMapEntry {
  /** `real`, `full`, `fake`, `single`, or `none` when not root-capable. */
  mode: string;
  /** Why this mode. */
  reason: string;
  /** What happens to owners set inside. */
  ownership: string;
}

/** `doctor`'s `idMaps`. */
export interface IdMapReport {
  /** `--id-map` as asked (`auto` by default). */
  requested: IdMapChoice;
  /** Per backend. */
  backends: Partial<Record<BackendName, IdMapEntry>>;
  /** How to get full maps, or null when they are in use or not needed. */
  fix: string | null;
}

/** Builds the report. Pure. */
export function idMapReport(
  requested: IdMapChoice,
  realRoot: boolean,
  fullMissing: string | undefined,
): IdMapReport {
  let bubblewrap: IdMapEntry;
  try {
    const d = chooseIdMap(requested, { realRoot, runUid: 0, fullMissing });
    bubblewrap = { ...d, ownership: OWNERSHIP[d.mode] };
  } catch (error) {
    bubblewrap = {
      mode: "none",
      reason: (error as Error).message,
      ownership: "exec fails with exit 2",
    };
  }
  const proot: IdMapEntry = realRoot
    ? {
      mode: "fake",
      reason: "proot -0 fakes root even for real root",
      ownership: OWNERSHIP.fake,
    }
    : {
      mode: "fake",
      reason: "proot -0 fakes root (ptrace); --id-map does not apply",
      ownership: OWNERSHIP.fake,
    };
  const chroot: IdMapEntry = realRoot
    ? { mode: "real", reason: "real root", ownership: OWNERSHIP.real }
    : { mode: "none", reason: "needs real root", ownership: "-" };
  return {
    requested,
    backends: { bubblewrap, proot, chroot },
    fix: !realRoot && fullMissing !== undefined
      ? `${fullMissing}: ${FULL_MAP_FIX}`
      : null,
  };
}
