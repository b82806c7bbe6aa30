/**
 * `exec --ephemeral`: run on a fresh root filesystem that goes away
 * afterwards, whatever the outcome (non-zero exit, timeout, SIGINT or
 * SIGTERM); the base entry is only read.
 *
 * Where an overlay can be mounted (`backends/overlay.ts`; as root, or in a
 * user namespace), the entry is its read-only lower layer and the run's
 * writes go to an upper directory in the run's private directory, removed
 * when the run ends; a run killed by SIGKILL leaves that directory
 * unlocked, and the next `prune` sweeps it. Elsewhere (no user namespaces,
 * a kernel that refuses overlayfs) the run falls back to a clone of the
 * entry, said under `--verbose`: the clone is marked `ephemeral` in its
 * metadata, so that `prune` removes one a killed run left.
 *
 * With `keep`, a command that exits non-zero leaves its result as a new
 * plain entry (the overlay's merged view, copied; or the clone, kept), whose
 * UUID goes to `onKept`.
 *
 * Permissions: those of `exec`, plus `--allow-run=cp,unshare`.
 *
 * @module
 */

import { detectHost } from "../backends/host.ts";
import { cloneEntry } from "../store/clone.ts";
import { readMetadata, writeMetadata } from "../store/metadata.ts";
import { removeEntry } from "../store/remove.ts";
import { execInEntry, execOnOverlay, type ExecRequest } from "./exec.ts";
import { keepArgv, removeOverlay, setupOverlay } from "./overlay_run.ts";

/** What `--keep` asks for. */
export interface EphemeralOptions {
  /** Keep the result of a command that exits non-zero as a new entry. */
  keep?: boolean;
  /** Called with the UUID of the entry kept. */
  onKept?: (uuid: string) => void;
}

/**
 * Runs the command on an overlay of `request.uuid`, or in a clone of it.
 *
 * @returns The command's exit status, as `exec`; 130 or 143 when
 * interrupted before the command started.
 * @throws What `clone` and `exec` throw; what the run made is removed
 * first.
 */
export async function execEphemeral(
  request: ExecRequest,
  options: EphemeralOptions = {},
): Promise<number> {
  // Signals are noted rather than fatal until the run's files are gone;
  // while the command runs, exec passes them on to it as well.
  let interrupted: number | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => {
      interrupted ??= signal === "SIGINT" ? 130 : 143;
    };
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  const hostPath = request.hostEnv("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const notice = request.notice ?? toStderr;
  try {
    const outcome = await execOnOverlay(request, {
      setup: async (where) => {
        if (interrupted !== undefined) throw new Interrupted(interrupted);
        const plan = await setupOverlay(where);
        if (typeof plan !== "string") {
          request.log(`ephemeral overlay of ${request.uuid}: ${plan.upper}`);
        }
        return plan;
      },
      finish: async (code, plan, idMap) => {
        try {
          if (options.keep && code !== undefined && code !== 0) {
            const kept = await cloneEntry(request.store, request.uuid, {
              hostPath,
              copy: (cp, to) =>
                keepArgv(plan, detectHost(), idMap, cp, to, hostPath),
            }).catch((error) => {
              notice(
                `polythene: cannot keep the failed run: ${
                  (error as Error).message
                }`,
              );
            });
            if (kept) options.onKept?.(kept.uuid);
          }
        } finally {
          if (await removeOverlay(plan)) {
            request.log(`removed the overlay's upper and work directories`);
          } else {
            request.log(`cannot remove ${plan.upper}: prune will`);
          }
        }
      },
    }).catch((error) => {
      if (error instanceof Interrupted) return error;
      throw error;
    });
    if (typeof outcome === "number") return outcome;
    if (outcome instanceof Interrupted) return outcome.code;
    request.log(`no overlay (${outcome}): running in a copy of the entry`);
    return await inClone(request, options, hostPath, () => interrupted);
  } finally {
    for (const { signal, listener } of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}

/** The fall-back: clone the entry, run in the clone, remove it. */
async function inClone(
  request: ExecRequest,
  options: EphemeralOptions,
  hostPath: string,
  interrupted: () => number | undefined,
): Promise<number> {
  const clone = await cloneEntry(request.store, request.uuid, {
    hostPath,
    ephemeral: true,
    holdLock: true,
    progress: request.progress,
  });
  request.log(`ephemeral clone ${clone.uuid} of ${request.uuid}`);
  let kept = false;
  try {
    const early = interrupted();
    if (early !== undefined) return early;
    const code = await execInEntry({ ...request, uuid: clone.uuid });
    if (options.keep && code !== 0) {
      // No longer ephemeral: prune leaves it alone.
      const meta = await readMetadata(request.store, clone.uuid);
      if (meta !== undefined) {
        const { ephemeral: _, ...rest } = meta;
        await writeMetadata(request.store, rest);
      }
      kept = true;
      options.onKept?.(clone.uuid);
    }
    return code;
  } finally {
    clone.lock?.release();
    if (!kept) {
      await removeEntry(request.store, clone.uuid, { wait: true }).catch(
        (error) => request.log(`removing ${clone.uuid}: ${error}`),
      );
      request.log(`removed ephemeral clone ${clone.uuid}`);
    }
  }
}

/** SIGINT or SIGTERM came before the command started: nothing runs. */
class Interrupted {
  constructor(readonly code: number) {}
}

function toStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
