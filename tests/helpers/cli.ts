/**
 * Runs the polythene CLI the way users do: as a separate process. When
 * `POLYTHENE_BIN` is set it is the CLI under test; otherwise the source runs
 * under `deno run --no-prompt` with exactly the permission flags of the
 * compiled binary, so a missing permission fails the test.
 *
 * @module
 */

import { runFlags } from "../../src/permissions.ts";

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
  /**
   * Argv put in front of the CLI, e.g. `unshare ...` to change the host
   * shape. It runs after the switch to `user`, so as that user.
   */
  prefix?: string[];
  /**
   * Directory holding the `main.ts` to run instead of this checkout's, e.g.
   * a copy `user` can read (see {@linkcode sourceReadableBy}). Ignored when
   * `POLYTHENE_BIN` is set.
   */
  source?: string;
  /** The CLI's working directory (default `/`). */
  cwd?: string;
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

/**
 * The argv that starts the CLI under test: `bin` alone, or else the source
 * under `deno run --quiet --no-prompt` with exactly the compile flags.
 *
 * @param source Directory holding `main.ts` (default: this checkout).
 * @param bin The compiled binary (default: `POLYTHENE_BIN`, when set).
 */
export function cliArgv(
  source = REPO,
  bin = Deno.env.get("POLYTHENE_BIN"),
): string[] {
  if (bin) return [bin];
  return [
    Deno.execPath(),
    "run",
    ...runFlags(),
    `${source.replace(/\/+$/, "")}/main.ts`,
  ];
}

/** Runs `polythene ARGS` and collects its exit code and output. */
export async function runPolythene(
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  // The user switch comes first, so that a prefix such as `unshare --user`
  // runs as that user. The launchers are resolved here, on this process's
  // PATH, because `options.path` shapes only what the CLI sees.
  const argv = [
    ...userPrefix(options.user),
    ...launcher(options.prefix ?? []),
    ...cliArgv(options.source),
    ...args,
  ];
  const env: Record<string, string> = {
    PATH: options.path ?? Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: options.user?.home ?? Deno.env.get("HOME") ?? "/root",
    ...(options.user
      ? { DENO_DIR: await userDenoDir(options.user) }
      : denoDir()),
    ...options.env,
  };
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: options.cwd ?? "/",
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
    hostProgram("setpriv") ?? "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--init-groups",
    "--",
  ];
}

function launcher(prefix: string[]): string[] {
  const [program, ...rest] = prefix;
  if (program === undefined || program.includes("/")) return prefix;
  return [hostProgram(program) ?? program, ...rest];
}

/**
 * The absolute path of `name` on this process's PATH or in the sbin
 * directories; undefined when this machine lacks it.
 */
export function hostProgram(name: string): string | undefined {
  const dirs = [
    ...(Deno.env.get("PATH") ?? "").split(":"),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ];
  for (const dir of dirs) {
    if (!dir.startsWith("/")) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) {
        return `${dir}/${name}`;
      }
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/** A copy of the CLI's source that a test user can read. */
export interface ReadableSource {
  /** Directory holding `main.ts`: this checkout, or a temporary copy. */
  dir: string;
  /** Removes the copy, if one was made. */
  cleanup(): Promise<void>;
}

/**
 * Where `user` can read the CLI's source: this checkout when that user can
 * read it, otherwise a temporary world-readable copy of `main.ts` and `src/`
 * (CI may clone as root into a folder other users cannot enter).
 *
 * @throws {Error} When `user` cannot run this Deno binary.
 */
export async function sourceReadableBy(
  user: TestUser,
): Promise<ReadableSource> {
  const bin = Deno.env.get("POLYTHENE_BIN");
  const program = bin || Deno.execPath();
  if (!await userCan(user, "-x", program)) {
    throw new Error(
      `User "${user.name}" cannot run "${program}": install it where ` +
        "every user can run it (scripts/setup.sh links /usr/local/bin/deno)",
    );
  }
  if (bin || await userCan(user, "-r", `${REPO}src/cli/main.ts`)) {
    return { dir: REPO, cleanup: () => Promise.resolve() };
  }
  const dir = await Deno.makeTempDir({ prefix: "polythene-source-" });
  await Deno.chmod(dir, 0o755);
  // main.ts and src/, plus deno.json and deno.lock for the npm imports.
  for (const name of ["main.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(`${REPO}${name}`, `${dir}/${name}`);
    await Deno.chmod(`${dir}/${name}`, 0o644);
  }
  await copyTree(`${REPO}src`, `${dir}/src`);
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

async function userCan(user: TestUser, test: string, path: string) {
  const out = await new Deno.Command(userPrefix(user)[0]!, {
    args: [...userPrefix(user).slice(1), "test", test, path],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { mode: 0o755 });
  await Deno.chmod(to, 0o755);
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else if (entry.isFile) {
      await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
      await Deno.chmod(`${to}/${entry.name}`, 0o644);
    }
  }
}

function denoDir(): Record<string, string> {
  const dir = Deno.env.get("DENO_DIR");
  return dir ? { DENO_DIR: dir } : {};
}

const userDenoDirs = new Map<number, Promise<string>>();

/**
 * A `DENO_DIR` for `user`, made once per test process: a copy of this
 * process's npm cache owned by `user`, so the CLI run as that user finds
 * its npm packages (Deno resolves them for the whole module graph, `pull`'s
 * included) without reaching for the network. Removed when the process ends.
 */
export function userDenoDir(user: TestUser): Promise<string> {
  let dir = userDenoDirs.get(user.uid);
  if (dir === undefined) {
    dir = makeUserDenoDir(user);
    userDenoDirs.set(user.uid, dir);
  }
  return dir;
}

async function makeUserDenoDir(user: TestUser): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdin: "null",
    stderr: "null",
  }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    npmCache: string;
  };
  const top = await Deno.makeTempDir({ prefix: "polythene-deno-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(top, { recursive: true });
    } catch { /* already gone */ }
  });
  await Deno.chmod(top, 0o755);
  const denoDir = `${top}/deno-dir`;
  await Deno.mkdir(denoDir, { mode: 0o755 });
  for (
    const argv of [
      [Deno.execPath(), "cache", "--quiet", `${REPO}main.ts`],
      ["cp", "-a", npmCache, `${denoDir}/npm`],
      ["chown", "-R", `${user.uid}:${user.gid}`, denoDir],
    ]
  ) {
    const out = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`,
      );
    }
  }
  return denoDir;
}
