/**
 * The I/O around a private binfmt_misc instance (`binfmt.ts`): whether one
 * can be made here (the pure checks, then a probe that registers the
 * host's qemu in a throwaway instance, cached like the backends' probes),
 * and for a run, the directory it is mounted on, in the run's private
 * directory. `exec` and `doctor` ask the same function.
 *
 * Permissions: `--allow-read` (PATH), `--allow-write` (the run's
 * directory, or a temp dir for doctor's probe), `--allow-run=sh,unshare`
 * (the probe).
 *
 * @module
 */

import {
  binfmtArgv,
  binfmtNamespace,
  elfMagic,
  hostEntryUsable,
  privateBinfmtRefusal,
} from "./binfmt.ts";
import type { Emulation, PrivateBinfmt } from "./emulation.ts";
import type { HostFacts } from "./host.ts";
import { type ProbeCache, probeKey } from "./probe_cache.ts";
import { runCaptured } from "../process/spawn.ts";
import { which } from "../process/which.ts";

/** The host programs a private instance needs. */
export const BINFMT_PROGRAMS = ["unshare", "mount", "sh"] as const;

/** What {@linkcode setupPrivateBinfmt} needs. */
export interface BinfmtSetup {
  /**
   * A private directory (0700): the run's, where the instance's mount
   * point is made, or (doctor) a scratch one for the probe alone.
   */
  runDir: string;
  /** Facts about the host. */
  host: HostFacts;
  /** The host's PATH. */
  hostPath: string;
  /** The probe cache. */
  cache: ProbeCache;
}

/**
 * `emulation` with a private instance for bubblewrap when the host has no
 * usable binfmt_misc entry and one can be made here, else with the reason
 * none can (`privateRefusal`); unchanged when the host's entry serves.
 */
export async function withPrivateBinfmtIfPossible(
  emulation: Emulation,
  where: BinfmtSetup,
): Promise<Emulation> {
  if (hostEntryUsable(emulation.binfmt) || emulation.arch === undefined) {
    return emulation;
  }
  const plan = await setupPrivateBinfmt(emulation, where);
  return typeof plan === "string"
    ? { ...emulation, privateRefusal: plan }
    : { ...emulation, privateBinfmt: plan };
}

/**
 * Checks that qemu can be registered in a private instance here (a probe,
 * cached), then makes the directory it is mounted on (`runDir/binfmt`).
 *
 * @returns The plan, or one line saying why there can be none.
 */
export async function setupPrivateBinfmt(
  emulation: Emulation,
  where: BinfmtSetup,
): Promise<PrivateBinfmt | string> {
  const refusal = privateBinfmtRefusal(where.host.kernel, emulation);
  if (refusal !== undefined) return refusal;
  const found = BINFMT_PROGRAMS.map((name) => which(name, where.hostPath));
  const missing = BINFMT_PROGRAMS.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) return `${missing.join(", ")} not on PATH`;
  const [unshare, mount, sh] = found.map((p) => p!.path) as [
    string,
    string,
    string,
  ];
  const arch = emulation.arch!;
  const qemu = which(
    emulation.qemu!.slice(emulation.qemu!.lastIndexOf("/") + 1),
    where.hostPath,
  );
  const plan: PrivateBinfmt = {
    dir: `${where.runDir}/binfmt`,
    name: `qemu-${arch}`,
    qemu: emulation.qemu!,
    ...elfMagic(arch)!,
    sh,
    mount,
    unshare,
  };
  const key = probeKey(
    "binfmt",
    {
      ...Object.fromEntries(BINFMT_PROGRAMS.map((n, i) => [n, found[i]!])),
      ...(qemu === undefined ? {} : { qemu }),
    },
    where.host,
  );
  let record = where.cache.get(key);
  if (record === undefined) {
    const failed = await probe(plan, where);
    record = {
      ok: failed === undefined,
      ...(failed === undefined ? {} : { reason: failed }),
      probedAt: new Date().toISOString(),
    };
    where.cache.set(key, record);
  }
  if (!record.ok) {
    return record.reason ?? "a private binfmt_misc instance cannot be made";
  }
  Deno.mkdirSync(plan.dir, { mode: 0o700 });
  return { ...plan, probeKey: key };
}

/**
 * Why bubblewrap cannot register `qemu` for `arch` in a private instance
 * here, or undefined when it can: doctor's question, answered by the same
 * checks and probe (in a scratch directory) as `exec`'s.
 */
export async function privateBinfmtVerdict(
  arch: string,
  qemu: string,
  where: Omit<BinfmtSetup, "runDir">,
): Promise<string | undefined> {
  const scratch = Deno.makeTempDirSync({ prefix: "polythene-binfmt-" });
  try {
    const plan = await setupPrivateBinfmt(
      { platform: arch, arch, qemu },
      { ...where, runDir: scratch },
    );
    return typeof plan === "string" ? plan : undefined;
  } finally {
    // Each empty: the instances were mounted in namespaces that are gone.
    try {
      Deno.removeSync(`${scratch}/binfmt`);
    } catch {
      // Not made: no instance can be made here.
    }
    Deno.removeSync(scratch);
  }
}

/**
 * Registers the plan's qemu in a throwaway instance, in the namespace a
 * run would use.
 *
 * @returns undefined when it could, else the last line of the error.
 */
async function probe(
  plan: PrivateBinfmt,
  where: BinfmtSetup,
): Promise<string | undefined> {
  const dir = `${where.runDir}/binfmt-probe`;
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
    const out = await runCaptured(
      [
        ...binfmtNamespace(plan, where.host.realRoot),
        ...binfmtArgv({ ...plan, dir }, [plan.sh, "-c", ":"]),
      ],
      { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
    );
    if (out.code === 0) return undefined;
    const line = out.stderr.trim().split("\n").at(-1) ?? "";
    return `a private binfmt_misc instance cannot be made here (exit ${out.code}: ${line})`;
  } finally {
    // Empty: the instance was mounted in the probe's own namespace.
    Deno.removeSync(dir);
  }
}
