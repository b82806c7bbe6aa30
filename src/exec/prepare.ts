/**
 * Turns `exec`'s options and the entry's recorded image config into the
 * {@linkcode RunSpec} every backend runs: environment, working directory,
 * user, binds, network, DNS files and root emulation. Only `stat`, `lstat`,
 * small reads and writes: no process is started.
 *
 * Permissions: `--allow-read`, `--allow-write` (rootfs mount points and the
 * temp dir), `--allow-env` (for `--env KEY`).
 *
 * @module
 */

import { DEFAULT_PATH, type Mount, type RunSpec } from "../backends/backend.ts";
import type { HostInfo } from "../backends/backend.ts";
import {
  CommandNotExecutableError,
  ExitCode,
  PolytheneError,
  printable,
} from "../errors.ts";
import type { ImageConfig } from "../image/types.ts";
import { affectsLauncher } from "../backends/launcher_env.ts";
import {
  lookupCommand,
  missingInterpreter,
  unexecutableCommand,
} from "./command_lookup.ts";
import { RunFiles } from "./host_files.ts";
import { mountPointInRoot, type MountPointMaker } from "./mount_point.ts";
import { checkRootfsShape } from "./rootfs_shape.ts";
import { which } from "../process/which.ts";
import {
  type BindRequest,
  commandEnv,
  type EnvPair,
  parseEnvArg,
  parseEnvFile,
  type UserIds,
} from "./options.ts";

/** `exec`'s options beyond the command, as parsed. */
export interface ExecOptions {
  /** `--env` values, in order. */
  env?: readonly string[];
  /** `--env-file` paths, in order. */
  envFiles?: readonly string[];
  /** `--workdir`, normalised; default the image's WorkingDir, else `/`. */
  workdir?: string;
  /** `--bind` values, parsed. */
  binds?: readonly BindRequest[];
  /** `--network`; default `host`. */
  network?: "host" | "none";
  /** `--hosts`; default `host`. */
  hosts?: "host" | "image";
  /** `--user`; default root. */
  user?: UserIds;
}

/** What {@linkcode prepareRun} needs. */
export interface PrepareInput {
  /** Host path of the rootfs. */
  rootfs: string;
  /** The command. */
  argv: readonly string[];
  /** The options. */
  options: ExecOptions;
  /** The recorded image config, when there is one. */
  config?: ImageConfig["config"];
  /** The host's environment. */
  hostEnv: (name: string) => string | undefined;
  /** Facts about the host. */
  host: HostInfo;
  /** Verbose log sink. */
  log: (message: string) => void;
  /** The run's private directory (`run_dir.ts`), for the host files. */
  runDir: string;
  /**
   * What makes missing mount points; default: they are made in `rootfs`
   * (an overlay run records them, to make them in its merged tree).
   */
  makeMountPoint?: MountPointMaker;
}

const FALLBACK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

/** A prepared run: the spec and the files to remove afterwards. */
export interface PreparedRun {
  /** What the backends run. */
  spec: Omit<RunSpec, "terminal">;
  /** Removes the run's private files. */
  cleanup(): void;
}

/**
 * Prepares one run.
 *
 * @returns The spec, or undefined when the program is not in the rootfs.
 * @throws {PolytheneError} a bad `--env-file`, bind source or mount point
 * (exit 2).
 */
export async function prepareRun(
  input: PrepareInput,
): Promise<PreparedRun | undefined> {
  const { rootfs, options, host } = input;
  checkRootfsShape(rootfs);
  const user = options.user ?? { uid: 0, gid: 0 };
  const fileEnv: EnvPair[] = [];
  for (const file of options.envFiles ?? []) {
    fileEnv.push(...parseEnvFile(await readEnvFile(file), file, input.hostEnv));
  }
  const cliEnv = (options.env ?? []).flatMap((arg) => {
    const pair = parseEnvArg(arg, input.hostEnv);
    return pair === undefined ? [] : [pair];
  });
  const env = commandEnv({
    imageEnv: input.config?.Env,
    uid: user.uid,
    term: input.hostEnv("TERM"),
    fileEnv,
    cliEnv,
  });
  // Makes missing mount points (mount_point.ts); as the backends find theirs.
  const sh = input.makeMountPoint ??
    which("sh", input.hostEnv("PATH") ?? FALLBACK_PATH)?.path ?? "/bin/sh";
  const workdir = options.workdir ?? imageWorkdir(input.config?.WorkingDir);
  const cwd = workdir === "/"
    ? "/"
    : workdirInRoot(rootfs, workdir, options.workdir === undefined, sh);
  const program = input.argv[0] ?? "";
  const found = lookupCommand(rootfs, program, env.PATH ?? "", cwd);
  if (found === undefined) {
    const denied = unexecutableCommand(rootfs, program, env.PATH ?? "", cwd);
    if (denied === undefined) return undefined;
    throw new CommandNotExecutableError(program, denied.path, denied.why);
  }
  const interpreter = missingInterpreter(rootfs, found);
  if (interpreter !== undefined) {
    throw new PolytheneError(
      `Command "${program}" is a script for "${interpreter}", which is not in the rootfs (${rootfs})`,
      { exitCode: ExitCode.CommandNotFound },
    );
  }
  const files = new RunFiles(input.log, sh, input.runDir);
  try {
    const mounts: Mount[] = [];
    if ((options.hosts ?? "host") === "host") {
      mounts.push(...files.hostFiles(rootfs));
    }
    if (!host.realRoot && user.uid === 0) {
      const apt = files.aptSnippet(rootfs);
      if (apt !== undefined) {
        input.log(`root emulation: ${apt.target} sets APT::Sandbox::User`);
        mounts.push(apt);
      }
    }
    const policy = files.policyRcd(rootfs);
    if (policy !== undefined) {
      input.log(`no services: ${policy.target} exits 101 for this run`);
      mounts.push(policy);
    }
    for (const bind of options.binds ?? []) {
      mounts.push(bindMount(rootfs, bind, sh));
    }
    return {
      spec: {
        rootfs,
        argv: input.argv,
        env,
        cwd,
        mounts,
        network: options.network ?? "host",
        user,
        guestShell: Object.keys(env).some(affectsLauncher)
          ? lookupCommand(rootfs, "sh", DEFAULT_PATH)
          : undefined,
      },
      cleanup: () => files.cleanup(),
    };
  } catch (error) {
    files.cleanup();
    throw error;
  }
}

function imageWorkdir(dir: string | undefined): string {
  return dir !== undefined && dir.startsWith("/") ? dir : "/";
}

async function readEnvFile(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    throw new PolytheneError(
      `Cannot read --env-file "${file}": ${(error as Error).message}`,
      { exitCode: ExitCode.Usage, cause: error },
    );
  }
}

/**
 * The working directory inside the rootfs, created when missing, as Docker
 * creates a missing WorkingDir. A bad `--workdir` is a usage error (2); a
 * bad WorkingDir from the image exits 1.
 */
function workdirInRoot(
  rootfs: string,
  workdir: string,
  fromImage: boolean,
  sh: MountPointMaker,
): string {
  try {
    return mountPointInRoot(rootfs, workdir, "dir", sh);
  } catch (error) {
    const why = (error as Error).message.replace(/^.*inside the rootfs: /, "");
    const what = fromImage
      ? `Invalid WorkingDir "${workdir}" in the image's config`
      : `Invalid --workdir "${workdir}"`;
    throw new PolytheneError(printable(`${what}: ${why}`), {
      exitCode: fromImage ? ExitCode.NotFound : ExitCode.Usage,
      cause: error,
    });
  }
}

/** A bind's source, checked on the host, and its mount point in the rootfs. */
function bindMount(
  rootfs: string,
  bind: BindRequest,
  sh: MountPointMaker,
): Mount {
  let source: string;
  let isDir: boolean;
  try {
    source = Deno.realPathSync(bind.source);
    isDir = Deno.statSync(source).isDirectory;
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "it does not exist on the host"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new PolytheneError(`Cannot bind "${bind.source}": ${why}`, {
      exitCode: ExitCode.Usage,
      cause: error,
    });
  }
  const target = mountPointInRoot(
    rootfs,
    bind.target,
    isDir ? "dir" : "file",
    sh,
  );
  return { source, target, readOnly: bind.readOnly };
}
