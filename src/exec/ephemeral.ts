/**
 * `exec --ephemeral`: run in a fresh clone of the entry, and remove the
 * clone afterwards whatever the outcome (non-zero exit, timeout, SIGINT or
 * SIGTERM). The base entry is only read. Should polythene itself be killed
 * with SIGKILL, the clone is marked `ephemeral` in its metadata and the next
 * `prune` removes it.
 *
 * Permissions: those of `exec`, plus `--allow-run=cp`.
 *
 * @module
 */

import { cloneEntry } from "../store/clone.ts";
import { removeEntry } from "../store/remove.ts";
import { execInEntry, type ExecRequest } from "./exec.ts";

/**
 * Clones `request.uuid`, runs the command in the clone, removes the clone.
 *
 * @returns The command's exit status, as `exec`; 130 or 143 when
 * interrupted before the command started.
 * @throws What `clone` and `exec` throw; the clone is removed first.
 */
export async function execEphemeral(request: ExecRequest): Promise<number> {
  // Signals are noted rather than fatal until the clone is gone; while the
  // command runs, exec passes them on to it as well.
  let interrupted: number | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => {
      interrupted ??= signal === "SIGINT" ? 130 : 143;
    };
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  try {
    const clone = await cloneEntry(request.store, request.uuid, {
      hostPath: request.hostEnv("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      ephemeral: true,
      holdLock: true,
      progress: request.progress,
    });
    request.log(`ephemeral clone ${clone.uuid} of ${request.uuid}`);
    try {
      if (interrupted !== undefined) return interrupted;
      return await execInEntry({ ...request, uuid: clone.uuid });
    } finally {
      clone.lock?.release();
      await removeEntry(request.store, clone.uuid, { wait: true }).catch(
        (error) => request.log(`removing ${clone.uuid}: ${error}`),
      );
      request.log(`removed ephemeral clone ${clone.uuid}`);
    }
  } finally {
    for (const { signal, listener } of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}
