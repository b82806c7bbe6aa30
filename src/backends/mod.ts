/**
 * The backend registry: a plain list in the default probe order.
 *
 * @example
 * ```ts
 * import { backendsInOrder } from "./mod.ts";
 * const names = backendsInOrder("proot").map((b) => b.name);
 * // ["proot", "bubblewrap", "chroot"]
 * ```
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { bubblewrap } from "./bubblewrap.ts";
import { chroot } from "./chroot.ts";
import { atOrAbove, type BackendName, backendOrder } from "./names.ts";
import { proot } from "./proot.ts";
import { PTY_PROGRAMS } from "./pty.ts";

export type { Backend, HostInfo, Invocation, RunSpec } from "./backend.ts";
export {
  atOrAbove,
  BACKEND_NAMES,
  backendOrder,
  isBackendName,
} from "./names.ts";
export type { BackendName } from "./names.ts";

/** Every backend, strongest isolation first. */
export const BACKENDS: readonly Backend[] = [bubblewrap, proot, chroot];

/**
 * The backends in probe order, `preferred` first, leaving out those weaker
 * than `floor` (see {@linkcode atOrAbove}).
 */
export function backendsInOrder(
  preferred?: BackendName,
  floor?: BackendName,
): Backend[] {
  const allowed = atOrAbove(floor);
  return backendOrder(preferred).filter((name) => allowed.includes(name))
    .map((name) => BACKENDS.find((b) => b.name === name)!);
}

/**
 * Host programs polythene itself starts, for `--allow-run`: what each backend
 * declares it spawns and the pty relay (`script`), deduplicated, in a stable
 * order.
 */
export function runnablePrograms(): string[] {
  return [
    ...new Set([...BACKENDS.flatMap((b) => b.spawns), ...PTY_PROGRAMS]),
  ].sort();
}
