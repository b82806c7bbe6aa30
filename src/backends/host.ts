/**
 * Facts about this host, read without starting any process.
 *
 * Deno refuses every read under `/proc` without `--allow-all`, so these facts
 * come from `Deno.uid()`, `Deno.osRelease()` and the owner of `/`.
 *
 * Permissions: `--allow-sys=uid,osRelease`, `--allow-read=/`.
 *
 * @module
 */

import type { HostInfo } from "./backend.ts";

/** Host facts that a probe result depends on. */
export interface HostFacts extends HostInfo {
  /** `uname -r`. */
  kernel: string;
}

/** The overflow uid: how an unmapped owner shows inside a user namespace. */
export const OVERFLOW_UID = 65534;

/**
 * True when uid 0 is real root rather than root mapped inside a child user
 * namespace. In such a namespace the host's root-owned `/` shows as owned
 * by an unmapped uid. Pure.
 */
export function isRealRoot(uid: number, rootOwner: number | null): boolean {
  return uid === 0 && rootOwner === 0;
}

/** Reads the host facts. */
export function detectHost(): HostFacts {
  const uid = Deno.uid() ?? -1;
  let rootOwner: number | null = null;
  try {
    rootOwner = Deno.statSync("/").uid;
  } catch {
    rootOwner = null;
  }
  return {
    uid,
    realRoot: isRealRoot(uid, rootOwner),
    kernel: Deno.osRelease(),
  };
}
