/**
 * The I/O shell around the `--id-map` decision for one run: finds what full
 * maps need, decides (`chooseIdMap`, pure), and, for faked ownership, writes
 * the seccomp filter bwrap loads with `--seccomp 5` into the run's 0700
 * directory (`STORE/.polythene/run/<random>/`, see `run_dir.ts`), as a 0600
 * file: it goes with that directory, which `prune` sweeps after a killed run. It
 * also finds host `perl` for proot's `faccessat2` fix (`proot_compat.ts`),
 * which needs no file: the filter travels in proot's argv. The filter
 * builder and the subordinate-id reader load only when a run needs them
 * (`exec_modules.ts`): real root needs neither.
 *
 * Permissions: `--allow-read` (`/etc`, PATH), `--allow-write` (the run's
 * directory).
 *
 * @module
 */

import type { HostInfo, IdMapPlan } from "../backends/backend.ts";
import type { FullMapHost } from "../process/subids.ts";
import {
  chooseIdMap,
  type IdMapChoice,
  type IdMapDecision,
} from "../backends/id_map.ts";
import { which } from "../process/which.ts";
import { loadExecLazy } from "./exec_modules.ts";

/** The plan for one run and its files. */
export interface IdMapRun {
  /** bubblewrap's mapping; undefined as real root. */
  idMap?: IdMapPlan;
  /** proot's `faccessat2` fix, when host `perl` is on PATH. */
  compatFilter?: { perl: string };
  /** The decision, for the log. */
  decision: IdMapDecision;
}

/** What {@linkcode prepareIdMap} needs. */
export interface IdMapInput {
  /** The run's private directory (0700, removed with the run). */
  runDir: string;
  /** Facts about the host. */
  host: HostInfo;
  /** The host's PATH. */
  hostPath: string;
  /** The run's uid inside. */
  runUid: number;
  /** `--id-map`; default `auto`. */
  requested?: IdMapChoice;
  /** Verbose log sink. */
  log: (message: string) => void;
}

/**
 * Decides the mapping and writes the run's filter file.
 *
 * @throws {UsageError} `--id-map full` where full maps cannot be made.
 */
export async function prepareIdMap(input: IdMapInput): Promise<IdMapRun> {
  const requested = input.requested ?? "auto";
  let full: FullMapHost | undefined;
  let fullMissing: string | undefined = "real root";
  if (!input.host.realRoot) {
    const subids = await loadExecLazy<typeof import("../process/subids.ts")>(
      "subids",
    );
    full = subids.detectFullMapHost(input.host.uid, input.hostPath);
    fullMissing = subids.fullMapsMissing(full);
  }
  const decision = chooseIdMap(requested, {
    realRoot: input.host.realRoot,
    runUid: input.runUid,
    fullMissing,
  });
  input.log(`id map: ${decision.mode} (${decision.reason})`);
  let idMap: IdMapPlan | undefined;
  if (decision.mode === "full") {
    const dirs = [full!.newuidmap!, full!.newgidmap!].map((p) =>
      p.slice(0, p.lastIndexOf("/"))
    );
    idMap = {
      mode: "full",
      unshare: full!.unshare!,
      helperPath: [...new Set(dirs)].join(":"),
      forced: requested === "full",
    };
  } else if (decision.mode === "fake") {
    const { fakeOwnershipFilter } = await loadExecLazy<
      typeof import("../backends/seccomp.ts")
    >("seccomp");
    const file = writeFilter(input.runDir, "fake", fakeOwnershipFilter());
    idMap = { mode: "fake", filterFile: file };
  } else if (decision.mode === "single") {
    idMap = { mode: "single" };
  }
  const perl = which("perl", input.hostPath)?.path;
  const compatFilter = perl === undefined ? undefined : { perl };
  return { idMap, compatFilter, decision };
}

/** Writes `bytes` to a new 0600 file in `dir` (the run's directory). */
function writeFilter(dir: string, kind: string, bytes: Uint8Array): string {
  const file = Deno.makeTempFileSync({
    dir,
    prefix: `seccomp-${kind}-`,
    suffix: ".bpf",
  });
  Deno.chmodSync(file, 0o600);
  Deno.writeFileSync(file, bytes);
  return file;
}
