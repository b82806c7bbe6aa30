/**
 * Polythene as a library: stage container root filesystems and run commands
 * in them from TypeScript, through the same functions as the `polythene`
 * command line (one code path serves both).
 *
 * Every function takes an optional store (default `POLYTHENE_STORE`, else
 * `/var/tmp/polythene`). Failures are thrown as {@linkcode PolytheneError}
 * subclasses whose `exitCode` is the one the CLI exits with; a command that
 * ran returns its own exit code instead (124 on timeout, 128+N on signal N).
 *
 * Permissions: those of the CLI (`permissionFlags()` in
 * `src/permissions.ts`): `--allow-run` for the backends (`bwrap`, `proot`,
 * `sh`, `unshare`), `cp` and `chattr` (best effort: without it new entries
 * are not spread over ext4's block groups, see `src/store/spread.ts`),
 * `--allow-read`, `--allow-write`, `--allow-net` (pull), `--allow-env`,
 * `--allow-sys=gid,osRelease,statfs,uid`.
 *
 * @example A test suite's session
 * ```ts
 * import { PolytheneSession } from "./mod.ts";
 *
 * export async function unameIn(image: string): Promise<string> {
 *   const session = new PolytheneSession({ store: "/tmp/polythene-tests" });
 *   const uuid = await session.pull(image);
 *   const { code, stdout } = await session.exec(uuid, ["uname", "-a"], {
 *     capture: true,
 *   });
 *   if (code !== 0) throw new Error(`uname exited ${code}`);
 *   return stdout;
 * }
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export type {
  BackendReport,
  DoctorHost,
  DoctorReport,
  Problem,
  ProblemKind,
  SysctlName,
} from "./backends/doctor.ts";
export { SYSCTLS } from "./backends/doctor.ts";
export type { HostFacts } from "./backends/host.ts";
export type { HostInfo, Isolation } from "./backends/backend.ts";
export type { IdMapChoice } from "./backends/id_map.ts";
export { ID_MAP_CHOICES } from "./backends/id_map.ts";
export { BACKEND_NAMES, type BackendName } from "./backends/names.ts";
export type { UserIds } from "./exec/options.ts";
export type { ImageConfig } from "./image/types.ts";
export type { EntryInfo } from "./store/entries.ts";
export type { ProgressReporter } from "./progress.ts";
export type { PruneReason, PruneReport } from "./store/prune.ts";

export * from "./library/options.ts";
export * from "./library/functions.ts";
export * from "./library/run.ts";
export * from "./library/session.ts";
export type { Provisioned, ProvisionOptions } from "./library/provision.ts";
