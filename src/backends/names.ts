/** The backend names, in the default probe order (strongest first). */
export const BACKEND_NAMES = ["bubblewrap", "proot", "chroot"] as const;

/** One backend's name. */
export type BackendName = typeof BACKEND_NAMES[number];

/** True when `name` names a backend. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * The probe order: `preferred` first, then the rest in the default order.
 *
 * @param preferred A backend to try first, or undefined for the default order.
 * @returns Every backend name exactly once.
 */
export function backendOrder(preferred?: BackendName): BackendName[] {
  if (preferred === undefined) return [...BACKEND_NAMES];
  return [preferred, ...BACKEND_NAMES.filter((n) => n !== preferred)];
}

/**
 * The backends an isolation floor allows: `floor` and every backend before
 * it in the default order (which is strongest first). Pure.
 *
 * @example
 * ```ts
 * import { atOrAbove } from "./names.ts";
 * atOrAbove("proot"); // ["bubblewrap", "proot"]
 * ```
 */
export function atOrAbove(floor?: BackendName): BackendName[] {
  if (floor === undefined) return [...BACKEND_NAMES];
  return BACKEND_NAMES.slice(0, BACKEND_NAMES.indexOf(floor) + 1);
}
