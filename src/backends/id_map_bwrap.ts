/**
 * How bubblewrap carries out an {@linkcode IdMapPlan}: full maps run bwrap
 * as uid 0 inside `unshare --user --map-auto --map-root-user` (bwrap then
 * makes no user namespace of its own); faked ownership passes the seccomp
 * filter as `--seccomp 5`, fd 5 opened on the filter file by the status
 * wrapper (`status.ts`; Deno passes no descriptor above 2). Pure.
 *
 * @module
 */

import type { Invocation, RunSpec } from "./backend.ts";
import { SECCOMP_FD } from "./status.ts";
import { overlayArgv } from "./overlay.ts";
import { binfmtArgv, privateBinfmtOf } from "./binfmt.ts";

/** bwrap options the plan adds before `--`. Pure. */
export function bwrapIdMapArgs(spec: RunSpec): string[] {
  return spec.idMap?.mode === "fake" ? ["--seccomp", String(SECCOMP_FD)] : [];
}

/** Wraps bwrap's invocation for the plan. Pure. */
export function idMapInvocation(
  spec: RunSpec,
  bwrap: Invocation,
): Invocation {
  const plan = spec.idMap;
  if (plan?.mode === "full") {
    // An ephemeral run's overlay is mounted in this same namespace, where
    // the files it copies up keep their subordinate owners.
    // So is a private binfmt_misc instance (binfmt.ts).
    const overlay = spec.overlay;
    const binfmt = privateBinfmtOf(spec.emulation);
    const inner = binfmt ? binfmtArgv(binfmt, bwrap.argv) : bwrap.argv;
    return {
      ...bwrap,
      argv: [
        plan.unshare,
        "--user",
        "--map-auto",
        "--map-root-user",
        ...(overlay || binfmt ? ["--mount", "--"] : ["--"]),
        ...(overlay ? overlayArgv(overlay, true, inner) : inner),
      ],
      overlaid: overlay !== undefined,
      // unshare runs newuidmap/newgidmap from PATH; bwrap clears it.
      env: { ...bwrap.env, PATH: plan.helperPath },
    };
  }
  if (plan?.mode === "fake") {
    return { ...bwrap, fdSeccomp: plan.filterFile };
  }
  return bwrap;
}
