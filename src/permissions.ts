/**
 * The one permission list: used by the `polythene` task, the compile task and
 * the tests that run the CLI. Never `-A`. Each part is declared by the module
 * that needs it.
 *
 * @module
 */

import { runnablePrograms } from "./backends/mod.ts";
import { lazyModuleFiles } from "./cli/command_modules.ts";
import { backendModuleFiles } from "./backends/backend_modules.ts";
import { execLazyFiles } from "./exec/exec_modules.ts";
import { CLONE_PROGRAMS } from "./store/clone.ts";
import { MAPPED_PROGRAMS } from "./store/mapped_ids.ts";
import { SPREAD_PROGRAMS } from "./store/spread.ts";
import { PODMAN_ENV_VARS } from "./image/podman.ts";
import { AUTH_ENV_VARS, HELPER_ENV_VARS } from "./image/registry/mod.ts";
import { PROXY_ENV_VARS } from "./image/registry/proxy.ts";
import { DENO_PROXY_VARS } from "./image/registry/transport.ts";

/** Environment variables the CLI and the library (`src/mod.ts`) read. */
export const CLI_ENV_VARS = [
  "POLYTHENE_STORE",
  "POLYTHENE_ISOLATION",
  "POLYTHENE_ID_MAP",
  "POLYTHENE_VERBOSE",
  // The library's PolytheneSession: proot first on GitHub Actions.
  "GITHUB_ACTIONS",
  // Progress displays: the terminal's width and colour (src/cli/progress.ts).
  "COLUMNS",
  "NO_COLOR",
  "PATH",
  "TERM",
  "TMPDIR",
] as const;

/**
 * Credential helpers `pull` may run (`docker-credential-NAME get`). Names
 * are fixed at compile time; another helper gets a clear refusal.
 */
export const CREDENTIAL_HELPERS = [
  "desktop",
  "ecr-login",
  "gcloud",
  "pass",
  "secretservice",
].map((name) => `docker-credential-${name}`);

/** Programs `pull` starts: podman (the podman puller), mknod (devices), cp (the layer-stack cache). */
export const PULL_PROGRAMS = ["cp", "mknod", "podman"] as const;

/** Every program polythene may start, sorted. */
export function allowedPrograms(): string[] {
  return [
    ...new Set([
      ...runnablePrograms(),
      ...PULL_PROGRAMS,
      ...CLONE_PROGRAMS,
      ...MAPPED_PROGRAMS,
      ...SPREAD_PROGRAMS,
      ...CREDENTIAL_HELPERS,
    ]),
  ].sort();
}

/** Every environment variable polythene may read, sorted. */
export function allowedEnv(): string[] {
  return [
    ...new Set([
      ...CLI_ENV_VARS,
      ...PODMAN_ENV_VARS,
      ...AUTH_ENV_VARS,
      ...HELPER_ENV_VARS,
      ...PROXY_ENV_VARS,
      ...DENO_PROXY_VARS,
    ]),
  ].sort();
}

/**
 * Deno permission flags for the CLI: `--allow-run` names only what the
 * modules declare they start; read, write and net are unscoped because the
 * store and the registries are chosen at run time; env is unscoped because
 * `exec --env KEY` passes on whichever host variable the user names (the
 * command still gets nothing from the host it was not asked for).
 */
export function permissionFlags(): string[] {
  return [
    `--allow-run=${allowedPrograms().join(",")}`,
    "--allow-read",
    "--allow-write",
    "--allow-net",
    // Unscoped: `exec --env KEY` passes the host's value of any KEY the
    // user names. allowedEnv() lists what polythene reads on its own.
    "--allow-env",
    "--allow-sys=gid,osRelease,statfs,uid",
  ];
}

/** Targets of the compile task. */
export const COMPILE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
] as const;

/**
 * The flags that run the CLI, in the binary (baked in by `deno compile`) and
 * from source (`deno task polythene`, the e2e suite) alike. `--quiet` is
 * recorded in the binary: without it Deno prints an "Info" line at start for
 * each allowed program that is not on PATH.
 */
export function runFlags(): string[] {
  return ["--quiet", "--no-prompt", ...permissionFlags()];
}

/**
 * Flags for `deno compile` only, each with its reason:
 *
 * - `--no-code-cache`: the binary would otherwise write a V8 code cache to
 *   `$TMPDIR` (`deno-compile-NAME.cache`); polythene often runs as root with
 *   a shared `/tmp`, where another user could plant or read that file.
 * - `--exclude-unused-npm`: embed only the npm packages the CLI's module
 *   graph reaches, not the whole lock (the test-only cucumber tree is 86
 *   packages): a smaller binary with less third-party code in it.
 */
export const COMPILE_ONLY_FLAGS = [
  "--no-code-cache",
  "--exclude-unused-npm",
] as const;

/**
 * `--include` for each module the CLI imports through a computed specifier
 * (every command's module, `exec --ephemeral`'s, see
 * `src/cli/command_modules.ts`; each backend's, see
 * `src/backends/backend_modules.ts`; those only rare runs of `exec` need, see
 * `src/exec/exec_modules.ts`): `deno compile` cannot see those imports, and
 * without the flag the binary would fail to load them. `--exclude-unused-npm`
 * keeps the npm packages these modules reach: they are roots of the graph it
 * walks. Pure.
 */
export function compileIncludes(): string[] {
  return [
    ...lazyModuleFiles(),
    ...backendModuleFiles(),
    ...execLazyFiles(),
  ].flatMap((file) => [
    "--include",
    file,
  ]);
}

/** The `deno compile` argv for one target. Pure. */
export function compileArgv(target: string): string[] {
  return [
    "deno",
    "compile",
    ...COMPILE_ONLY_FLAGS,
    ...runFlags(),
    "--target",
    target,
    "--output",
    `dist/polythene-${target}`,
    ...compileIncludes(),
    "main.ts",
  ];
}

/**
 * The `polythene` task's command: the source with exactly the binary's run
 * flags, run from the caller's directory (`INIT_CWD`, which `deno task`
 * sets) as the binary would be, so relative `--store`, `oci:DIR`,
 * `--env-file` and `--bind` paths mean the same. Pure.
 */
export function polytheneTask(): string {
  return `R=$(pwd) && cd "$INIT_CWD" && deno run --config "$R/deno.json" ${
    runFlags().join(" ")
  } "$R/main.ts"`;
}
