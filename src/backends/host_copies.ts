/**
 * Private copies of the host files a run binds read-only (`Mount.hostFile`),
 * for a backend that cannot make a bind read-only. bubblewrap and chroot
 * bind the host's `/etc/resolv.conf` and `/etc/hosts` read-only as they are,
 * which costs no file I/O; proot has no mount namespace of its own, so its
 * binds are writable, and it gets copies in the run's private directory
 * instead: a write reaches only the copy, as before.
 *
 * Permissions: `--allow-read` on the host files, `--allow-write` on the
 * run's private directory.
 *
 * @module
 */

import type { Backend, Mount, RunSpec } from "./backend.ts";

/**
 * Whether `backend` needs private copies for `spec`: it has no mount
 * namespace of its own (so no read-only binds) and `spec` binds a host file.
 * Pure.
 */
export function needsHostCopies(backend: Backend, spec: RunSpec): boolean {
  return !backend.isolates.mounts &&
    (spec.mounts ?? []).some((m) => m.hostFile === true);
}

/**
 * `spec` with each host-file mount's source replaced by a private copy made
 * in `dir` (mode 0700, removed with the run). A host file that cannot be
 * read any more is left out.
 */
export function withHostCopies(spec: RunSpec, dir: string): RunSpec {
  const mounts: Mount[] = [];
  for (const mount of spec.mounts ?? []) {
    if (mount.hostFile !== true) {
      mounts.push(mount);
      continue;
    }
    let text: string;
    try {
      text = Deno.readTextFileSync(mount.source);
    } catch {
      continue;
    }
    const copy = Deno.makeTempFileSync({ dir, prefix: "polythene-host-" });
    Deno.writeTextFileSync(copy, text);
    Deno.chmodSync(copy, 0o644);
    mounts.push({
      source: copy,
      target: mount.target,
      readOnly: mount.readOnly,
      privateCopy: true,
    });
  }
  return { ...spec, mounts };
}
