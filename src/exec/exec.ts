/**
 * `exec`: run a command inside a stored rootfs with the strongest isolation
 * the host allows.
 *
 * Permissions: `--allow-read`, `--allow-write` (store and temp dir),
 * `--allow-run` (the backends), `--allow-env`, `--allow-sys=uid,osRelease`.
 *
 * @module
 */

import type { ProgressReporter } from "../progress.ts";
import { detectHost } from "../backends/host.ts";
import { type Emulation, needsEmulation } from "../backends/emulation.ts";
import { formatPlatform, hostPlatform } from "../image/platform.ts";
import type { Platform } from "../image/types.ts";
import { atOrAbove, type BackendName } from "../backends/names.ts";
import { ProbeCache } from "../backends/probe_cache.ts";
import { runInSandbox } from "../backends/run.ts";
import { CommandNotFoundError, UsageError } from "../errors.ts";
import type { Log } from "../log.ts";
import type { OutputCapture } from "../process/spawn.ts";
import { recordLastBackend } from "../store/last_backend.ts";
import { lockForExec } from "../store/lock.ts";
import { stateDir } from "../store/store.ts";
import { readMetadataSync } from "../store/metadata.ts";
import { openRunDir } from "../store/run_dir.ts";
import { type ExecOptions, prepareRun } from "./prepare.ts";
import type { IdMapChoice } from "../backends/id_map.ts";
import { prepareIdMap } from "./id_map_run.ts";
import type { HostFacts } from "../backends/host.ts";
import type { IdMapPlan, OverlayPlan } from "../backends/backend.ts";
import { recordMountPoints } from "./mount_point.ts";
import { loadExecLazy } from "./exec_modules.ts";

/** What to run, and where. */
export interface ExecRequest {
  /** The store root. */
  store: string;
  /** The entry to run in. */
  uuid: string;
  /** The command and its arguments. */
  argv: readonly string[];
  /** Backend to probe first. */
  isolation?: BackendName;
  /** Never use a backend weaker than this one (exit 126 instead). */
  isolationFloor?: BackendName;
  /**
   * Where the one line about a fall-back to another backend goes; default
   * stderr. Not called when the backend used is the one asked for.
   */
  notice?: (line: string) => void;
  /** Kill the whole tree after this many seconds (exit 124). */
  timeoutSeconds?: number;
  /** The host's environment: `PATH`, `TERM` and what `--env KEY` names. */
  hostEnv: (name: string) => string | undefined;
  /** `--env`, `--bind`, `--workdir`, `--network`, `--hosts`, `--user`. */
  options?: ExecOptions;
  /** `--id-map`: how bubblewrap maps ids when not real root; default auto. */
  idMap?: IdMapChoice;
  /** Capture stdout and stderr (stdin closed or `input`); default: inherited. */
  capture?: OutputCapture;
  /** Verbose log sink. */
  log: Log;
  /** `--ephemeral`: the copy's progress (see `src/progress.ts`). */
  progress?: ProgressReporter;
}

/**
 * Runs `request.argv` inside `STORE/UUID`.
 *
 * @returns The command's exit status (124 timeout, 128+N signal N).
 * @throws {UsageError} invalid UUID (2); {RootfsNotFoundError} (1);
 * {CommandNotFoundError} (127); {NoBackendError} (126).
 */
export async function execInEntry(request: ExecRequest): Promise<number> {
  return await runInEntry(request) as number;
}

/** How `exec --ephemeral` puts a run on an overlay (`ephemeral.ts`). */
export interface OverlayHooks {
  /**
   * Makes the overlay's directories in the run's `runDir` for the entry at
   * `lower`, or says (one line) why there can be none here.
   */
  setup(where: {
    runDir: string;
    lower: string;
    host: HostFacts;
    hostPath: string;
    cache: ProbeCache;
  }): Promise<Omit<OverlayPlan, "create"> | string>;
  /**
   * Called once the run is over, with the command's status (undefined when
   * it threw), before the run's directory goes: keeps the result if asked,
   * and removes the overlay's directories.
   */
  finish(
    code: number | undefined,
    plan: OverlayPlan,
    idMap: IdMapPlan | undefined,
  ): Promise<void>;
}

/**
 * {@linkcode execInEntry} on an overlay of the entry (see `overlay.ts`):
 * the entry is only read.
 *
 * @returns The command's exit status, or (a string) why no overlay can be
 * mounted here, when nothing was run.
 * @throws What `execInEntry` throws.
 */
export async function execOnOverlay(
  request: ExecRequest,
  hooks: OverlayHooks,
): Promise<number | string> {
  return await runInEntry(request, hooks);
}

async function runInEntry(
  request: ExecRequest,
  hooks?: OverlayHooks,
): Promise<number | string> {
  checkFloor(request.isolation, request.isolationFloor);
  // Checks the store root, then that the entry is a real directory, and is
  // held until the command ends: rm and prune wait for it.
  using lock = lockForExec(request.store, request.uuid);
  const rootfs = lock.path;
  const program = request.argv[0] ?? "";
  if (program.startsWith("-")) {
    throw new UsageError(
      `Invalid command "${program}": a program name cannot start with "-"`,
    );
  }
  const host = detectHost();
  // The run's files, in the store's state area; locked while it runs.
  using run = openRunDir(request.store);
  const metadata = readMetadataSync(request.store, request.uuid);
  const hostPath = request.hostEnv("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const cache = new ProbeCache(`${stateDir(request.store)}/probes.json`);
  const layer = await hooks?.setup({
    runDir: run.path,
    lower: rootfs,
    host,
    hostPath,
    cache,
  });
  if (typeof layer === "string") return layer;
  const create: OverlayPlan["create"][number][] = [];
  const prepared = await prepareRun({
    runDir: run.path,
    makeMountPoint: layer && recordMountPoints(create),
    rootfs,
    argv: request.argv,
    options: request.options ?? {},
    config: metadata?.config,
    hostEnv: request.hostEnv,
    host,
    log: request.log,
  });
  if (prepared === undefined) throw new CommandNotFoundError(program, rootfs);
  using _files = { [Symbol.dispose]: prepared.cleanup };
  request.log(
    `host: uid=${host.uid} real-root=${host.realRoot} kernel=${host.kernel}`,
  );
  const found = await emulationFor(metadata?.platform, hostPath);
  const emulation = found && await (await loadExecLazy<
    typeof import("../backends/binfmt_host.ts")
  >("binfmtHost")).withPrivateBinfmtIfPossible(found, {
    runDir: run.path,
    host,
    hostPath,
    cache,
  });
  if (emulation !== undefined) {
    request.log(
      `platform ${emulation.platform} is not this host's: qemu ${
        emulation.qemu ?? "not found"
      }, binfmt_misc ${emulation.binfmt?.flags ?? "none"}, private instance ${
        emulation.privateBinfmt
          ? "yes"
          : `no (${emulation.privateRefusal ?? "not needed"})`
      }`,
    );
  }
  const ids = await prepareIdMap({
    runDir: run.path,
    host,
    hostPath,
    runUid: prepared.spec.user?.uid ?? 0,
    requested: request.idMap,
    log: request.log,
  });
  const overlay = layer && { ...layer, create };
  let code: number | undefined;
  try {
    code = await runInSandbox(
      {
        ...prepared.spec,
        ...(overlay ? { rootfs: overlay.merged, overlay } : {}),
        idMap: ids.idMap,
        compatFilter: ids.compatFilter,
        ...(emulation === undefined ? {} : { emulation }),
        // A pty of its own only when both ends are a terminal: a redirected
        // stdout must get the command's bytes unchanged (a pty turns "\n"
        // into "\r\n").
        terminal: request.capture === undefined && Deno.stdin.isTerminal() &&
          Deno.stdout.isTerminal(),
      },
      {
        preferred: request.isolation,
        floor: request.isolationFloor,
        notice: request.notice ?? toStderr,
        hostPath,
        host,
        cache,
        privateDir: run.path,
        timeoutMs: request.timeoutSeconds === undefined
          ? undefined
          : request.timeoutSeconds * 1000,
        capture: request.capture,
        log: request.log,
        onRan: (backend) =>
          recordLastBackend(request.store, request.uuid, backend),
      },
    );
    return code;
  } finally {
    if (overlay) await hooks!.finish(code, overlay, ids.idMap);
  }
}

/**
 * Refuses `--isolation NAME` below `--isolation-floor`: they contradict
 * each other. Pure.
 *
 * @throws {UsageError} (2).
 */
export function checkFloor(
  isolation: BackendName | undefined,
  floor: BackendName | undefined,
): void {
  if (isolation === undefined || atOrAbove(floor).includes(isolation)) return;
  throw new UsageError(
    `--isolation ${isolation} is weaker than the isolation floor (${floor}): pick a backend from ${
      atOrAbove(floor).join(", ")
    }, or lower the floor`,
    "exec",
  );
}

/**
 * What running an entry of `platform` (its recorded one, never read from
 * its files) needs on this host, or undefined when it runs natively.
 */
async function emulationFor(
  platform: Platform | undefined,
  hostPath: string,
): Promise<Emulation | undefined> {
  if (platform === undefined || !needsEmulation(platform, hostPlatform())) {
    return undefined;
  }
  // Loaded only for a foreign image (`exec_modules.ts`).
  const { detectEmulation } = await loadExecLazy<
    typeof import("../backends/emulation_host.ts")
  >("emulationHost");
  return await detectEmulation(platform, formatPlatform(platform), hostPath);
}

function toStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
