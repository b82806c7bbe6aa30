/**
 * Runs the polythene CLI the way users do: as a separate process. When
 * `POLYTHENE_BIN` is set it is the CLI under test; otherwise the source runs
 * under `deno run --no-prompt` with exactly the permission flags of the
 * compiled binary, so a missing permission fails the test.
 *
 * @module
 */

import { permissionFlags } from "../../src/permissions.ts";

/** What one run returned. */
export interface CliResult {
  /** Exit code (128 + N for signal N). */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** How to run it. */
export interface CliOptions {
  /** Extra environment variables (the base is PATH, HOME and DENO_DIR). */
  env?: Record<string, string>;
  /** Text fed to stdin; otherwise stdin is closed. */
  stdin?: string;
  /** The PATH the CLI sees (default: this process's PATH). */
  path?: string;
  /** Run as this user (via `setpriv`), e.g. the rig's unprivileged user. */
  user?: TestUser;
  /** Argv put in front, e.g. `unshare ...` to change the host shape. */
  prefix?: string[];
  /** Safety net: kill the run after this long (default 120 s). */
  killAfterMs?: number;
  /** Called with the pid once the process has started. */
  onStart?: (pid: number) => void;
}

/** An account the tests run polythene as. */
export interface TestUser {
  /** Login name. */
  name: string;
  /** Numeric uid. */
  uid: number;
  /** Numeric gid. */
  gid: number;
  /** Home directory (used for HOME and DENO_DIR). */
  home: string;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** The argv that starts the CLI under test. */
export function cliArgv(): string[] {
  const bin = Deno.env.get("POLYTHENE_BIN");
  if (bin) return [bin];
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    ...permissionFlags(),
    `${REPO}main.ts`,
  ];
}

/** Runs `polythene ARGS` and collects its exit code and output. */
export async function runPolythene(
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const argv = [
    ...(options.prefix ?? []),
    ...userPrefix(options.user),
    ...cliArgv(),
    ...args,
  ];
  const env: Record<string, string> = {
    PATH: options.path ?? Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: options.user?.home ?? Deno.env.get("HOME") ?? "/root",
    ...(options.user
      ? { DENO_DIR: `${options.user.home}/.cache/deno` }
      : denoDir()),
    ...options.env,
  };
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: "/",
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  options.onStart?.(child.pid);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, options.killAfterMs ?? 120_000);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

function userPrefix(user: TestUser | undefined): string[] {
  if (user === undefined) return [];
  return [
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--init-groups",
    "--",
  ];
}

function denoDir(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}
