/**
 * The I/O around an ephemeral run's overlay (`backends/overlay.ts`): whether
 * one can be mounted here (a probe, cached like the backends' probes), its
 * directories in the run's private directory, their removal, and the copy
 * of a finished run's result that `--keep` publishes.
 *
 * Permissions: `--allow-read`, `--allow-write` (the store),
 * `--allow-run=unshare` (the probe).
 *
 * @module
 */

import type { HostInfo, IdMapPlan, OverlayPlan } from "../backends/backend.ts";
import type { HostFacts } from "../backends/host.ts";
import {
  OVERLAY_SCRIPT,
  overlayArgv,
  overlayNamespace,
  overlayOptions,
  resultOptions,
} from "../backends/overlay.ts";
import { type ProbeCache, probeKey } from "../backends/probe_cache.ts";
import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";
import { removeRunTree } from "../store/run_dir.ts";

/** The host programs an overlay needs. */
export const OVERLAY_PROGRAMS = ["unshare", "mount", "sh"] as const;

/** What {@linkcode setupOverlay} needs. */
export interface OverlaySetup {
  /** The run's private directory (0700). */
  runDir: string;
  /** The entry. */
  lower: string;
  /** Facts about the host. */
  host: HostFacts;
  /** The host's PATH. */
  hostPath: string;
  /** The probe cache. */
  cache: ProbeCache;
}

/**
 * Makes an overlay's directories in `runDir/overlay` (the upper's root
 * gets the entry's mode, and as root its owner, as overlayfs shows it),
 * after checking that an overlay can be mounted here.
 *
 * @returns The plan, but for its mount points; or one line saying why no
 * overlay can be mounted (then nothing was made).
 */
export async function setupOverlay(
  where: OverlaySetup,
): Promise<Omit<OverlayPlan, "create"> | string> {
  const found = OVERLAY_PROGRAMS.map((name) => which(name, where.hostPath));
  const missing = OVERLAY_PROGRAMS.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) return `${missing.join(", ")} not on PATH`;
  const [unshare, mount, sh] = found.map((p) => p!.path) as [
    string,
    string,
    string,
  ];
  const dir = `${where.runDir}/overlay`;
  const plan = {
    lower: where.lower,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    merged: `${dir}/merged`,
    unshare,
    mount,
    sh,
  };
  if (overlayOptions(plan, false) === undefined) {
    return "the store's path cannot be named in overlayfs options";
  }
  const key = probeKey(
    "overlay",
    Object.fromEntries(OVERLAY_PROGRAMS.map((n, i) => [n, found[i]!])),
    where.host,
  );
  let record = where.cache.get(key);
  if (record === undefined) {
    const refusal = await probe(where.runDir, plan, where.host);
    record = {
      ok: refusal === undefined,
      ...(refusal === undefined ? {} : { reason: refusal }),
      probedAt: new Date().toISOString(),
    };
    where.cache.set(key, record);
  }
  if (!record.ok) return record.reason ?? "overlayfs refused";
  for (const d of [dir, plan.upper, plan.work, plan.merged]) {
    Deno.mkdirSync(d, { mode: 0o700 });
  }
  const root = Deno.statSync(where.lower);
  Deno.chmodSync(plan.upper, (root.mode ?? 0o755) & 0o7777);
  if (where.host.realRoot) {
    Deno.chownSync(plan.upper, root.uid, root.gid);
  }
  return plan;
}

/**
 * Mounts a throwaway overlay the way a run would, in `runDir/probe`.
 *
 * @returns undefined when it could, else the last line of the error.
 */
async function probe(
  runDir: string,
  programs: Pick<OverlayPlan, "unshare" | "mount" | "sh">,
  host: HostInfo,
): Promise<string | undefined> {
  const dir = `${runDir}/probe`;
  const plan: OverlayPlan = {
    ...programs,
    lower: `${dir}/lower`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    merged: `${dir}/merged`,
    create: [{ kind: "dir", path: "/made" }],
  };
  try {
    for (const d of [dir, plan.lower, plan.upper, plan.work, plan.merged]) {
      Deno.mkdirSync(d, { mode: 0o700 });
    }
    const out = await runCaptured(
      [
        ...overlayNamespace(plan.unshare, host),
        ...overlayArgv(plan, !host.realRoot, [plan.sh, "-c", ":"]),
      ],
      { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
    );
    if (out.code === 0) return undefined;
    const line = out.stderr.trim().split("\n").at(-1) ?? "";
    return `overlayfs cannot be mounted here (exit ${out.code}: ${line})`;
  } finally {
    await removeRunTree(dir);
  }
}

/**
 * The argv (and environment) that copies a finished run's result, its
 * upper over the entry mounted read-only, into `to`, with `cp -a`: in a
 * private mount namespace as root, else in a user namespace with the
 * run's own id mapping, where the files keep their owners. Pure.
 */
export function keepArgv(
  plan: OverlayPlan,
  host: HostInfo,
  idMap: IdMapPlan | undefined,
  cp: string,
  to: string,
  hostPath: string,
): { argv: string[]; env: Record<string, string> } {
  const userns = !host.realRoot;
  const options = resultOptions(plan, userns)!;
  const script = [
    plan.sh,
    "-c",
    OVERLAY_SCRIPT,
    "polythene-keep",
    plan.mount,
    options,
    plan.merged,
    "0",
    cp,
    "-a",
    "--reflink=auto",
    "--",
    `${plan.merged}/.`,
    `${to}/`,
  ];
  const env = { PATH: hostPath, LC_ALL: "C" };
  if (idMap?.mode === "full") {
    return {
      argv: [
        idMap.unshare,
        "--user",
        "--map-auto",
        "--map-root-user",
        "--mount",
        "--",
        ...script,
      ],
      env: { ...env, PATH: `${hostPath}:${idMap.helperPath}` },
    };
  }
  return { argv: [...overlayNamespace(plan.unshare, host), ...script], env };
}

/** Removes the overlay's directories (`runDir/overlay`). */
export async function removeOverlay(plan: OverlayPlan): Promise<boolean> {
  return await removeRunTree(plan.upper.slice(0, plan.upper.lastIndexOf("/")));
}
