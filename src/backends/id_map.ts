/**
 * How ids are mapped for one run when polythene is not real root: the
 * `--id-map` decision (`POLYTHENE_ID_MAP`).
 *
 * - `full`: uid 0 inside is the user, 1..N are the user's subordinate ids
 *   (`/etc/subuid`, `/etc/subgid`), made by `unshare --map-auto` with
 *   `newuidmap`/`newgidmap`, as rootless podman does. `chown` works and the
 *   owners stay, as those host ids.
 * - `fake`: only uid 0 is mapped; a seccomp filter makes `chown` and the
 *   `set*id` calls succeed without doing anything (Charliecloud's
 *   `--force=seccomp`). The owners asked for are lost.
 * - `single`: only uid 0 is mapped, nothing faked: `chown` to another id
 *   fails, as before.
 *
 * `auto` picks `full` when the host can make full maps, else `fake`. This is
 * bubblewrap's mode; proot always fakes root itself (`-0`), and real root
 * needs no mapping.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** A mode `--id-map` can force. */
export type IdMapMode = "full" | "fake" | "single";

/** `--id-map`'s values. */
export const ID_MAP_CHOICES = ["auto", "full", "fake", "single"] as const;

/** What `--id-map` asks for. */
export type IdMapChoice = typeof ID_MAP_CHOICES[number];

/** True when `value` is one of {@linkcode ID_MAP_CHOICES}. Pure. */
export function isIdMapChoice(value: string): value is IdMapChoice {
  return (ID_MAP_CHOICES as readonly string[]).includes(value);
}

/**
 * Parses an `--id-map` or `POLYTHENE_ID_MAP` value.
 *
 * @throws {UsageError} on anything else.
 */
export function parseIdMap(value: string, source = "--id-map"): IdMapChoice {
  if (isIdMapChoice(value)) return value;
  throw new UsageError(
    `Invalid ${source} "${value}": expected one of ${
      ID_MAP_CHOICES.join(", ")
    }`,
  );
}

/** What the decision depends on. */
export interface IdMapFacts {
  /** polythene runs as real root. */
  realRoot: boolean;
  /** The run's uid inside (`--user`). */
  runUid: number;
  /** Why full maps cannot be made here, or undefined when they can. */
  fullMissing: string | undefined;
}

/** The mode bubblewrap will use, and why. */
export interface IdMapDecision {
  /** `real`: real root, nothing is mapped. */
  mode: IdMapMode | "real";
  /** One line for `--verbose` and `doctor`. */
  reason: string;
}

/**
 * Decides bubblewrap's id mapping. Pure.
 *
 * @throws {UsageError} (2) when `full` is forced and the host cannot make
 * full maps, naming what is missing.
 */
export function chooseIdMap(
  requested: IdMapChoice,
  facts: IdMapFacts,
): IdMapDecision {
  if (facts.realRoot) {
    return { mode: "real", reason: "real root: every id is the host's" };
  }
  if (facts.runUid !== 0) {
    return {
      mode: "single",
      reason: `--user ${facts.runUid}: that one id is mapped, to yours`,
    };
  }
  if (requested === "full") {
    if (facts.fullMissing !== undefined) {
      throw new UsageError(
        `Cannot use --id-map full: ${facts.fullMissing}; ${FULL_MAP_FIX}`,
      );
    }
    return { mode: "full", reason: "forced (--id-map full)" };
  }
  if (requested === "fake" || requested === "single") {
    return { mode: requested, reason: `forced (--id-map ${requested})` };
  }
  if (facts.fullMissing === undefined) {
    return {
      mode: "full",
      reason: "newuidmap/newgidmap and subordinate ranges are present",
    };
  }
  return { mode: "fake", reason: `no full maps: ${facts.fullMissing}` };
}

/** How to get full maps, for errors and `doctor`. */
export const FULL_MAP_FIX =
  "for full maps install uidmap (apt-get install uidmap) and give the user " +
  'a range in /etc/subuid and /etc/subgid (e.g. "NAME:100000:65536")';

/** What each mode does to ownership, for `doctor` and `--verbose`. */
export const OWNERSHIP: Readonly<Record<IdMapDecision["mode"], string>> = {
  real: "chown works; owners are host ids",
  full:
    "chown works; owners inside are kept as your subordinate host ids (rm, prune and clone enter the same mapping)",
  fake:
    "chown and set*id succeed but do nothing: the owners asked for are lost",
  single: "only uid 0 is mapped: chown to another id fails",
};
