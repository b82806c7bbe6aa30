/**
 * The shapes the exec-option suites run in: every backend, as root and as
 * the rig's unprivileged user `polythene-test`. Each run sees a PATH that
 * holds only that backend's programs, so a backend that cannot honour an
 * option is refused (exit 126, with its reason) instead of falling through
 * to another one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BACKEND_NAMES, type BackendName } from "../../src/backends/names.ts";
import { programsNeeded } from "../../src/backends/backend.ts";
import { BACKENDS } from "../../src/backends/mod.ts";
import { writeMetadata } from "../../src/store/metadata.ts";
import type { ImageConfig } from "../../src/image/types.ts";
import {
  type CliOptions,
  type CliResult,
  hostProgram,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "./cli.ts";
import {
  makeBusyboxStore,
  type StagedStore,
  testNeeding,
  testUser,
} from "./fixtures.ts";

/** Host programs each backend runs as real root, besides `sh`. */
export const BACKEND_TOOLS: Record<BackendName, string[]> = Object
  .fromEntries(
    BACKENDS.map((b) => [
      b.name,
      programsNeeded(b, { uid: 0, realRoot: true }).filter((p) => p !== "sh"),
    ]),
  ) as Record<BackendName, string[]>;

/** One shape: a backend and who runs polythene. */
export interface Shape {
  /** The only backend on PATH. */
  backend: BackendName;
  /** The unprivileged user, or undefined for root. */
  user?: TestUser;
  /** Whether this shape can run the backend at all (chroot needs root). */
  runnable: boolean;
}

/** What a test body gets. */
export interface ShapeContext {
  /** The shape. */
  shape: Shape;
  /** The staged store (owned by the shape's user). */
  staged: StagedStore;
  /** `polythene exec --verbose [options] UUID -- argv`. */
  exec(
    options: string[],
    argv: string[],
    extra?: CliOptions,
  ): Promise<CliResult>;
  /** Chowns `path` (recursively) to the shape's user; no-op for root. */
  own(path: string): Promise<void>;
}

/** A readable account of a run, for assertion messages. */
export function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout.slice(0, 2000)}\n` +
    `stderr: ${result.stderr.slice(0, 4000)}`;
}

/** Asserts that the run used `backend`, exited `code`, printed `stdout`. */
export function assertRan(
  result: CliResult,
  backend: BackendName,
  code: number,
  stdout?: string,
): void {
  const used = [...result.stderr.matchAll(/polythene: using backend (\S+)$/gm)]
    .map((m) => m[1]);
  assert.deepEqual(used, [backend], `backend used\n${show(result)}`);
  assert.equal(result.code, code, `exit code\n${show(result)}`);
  if (stdout !== undefined) {
    assert.equal(result.stdout, stdout, `stdout\n${show(result)}`);
  }
}

/** Asserts exit 126 naming `backend` and `reason`, and that nothing ran. */
export function assertRefused(
  result: CliResult,
  backend: BackendName,
  reason: RegExp,
): void {
  assert.equal(result.code, 126, `refused: exit 126\n${show(result)}`);
  assert.match(result.stderr, reason, `refusal reason\n${show(result)}`);
  assert.match(result.stderr, new RegExp(`^  ${backend}: `, "m"));
  assert.doesNotMatch(result.stderr, /using backend/, show(result));
}

/** Why the shapes cannot run here, or undefined. */
function missing(backend: BackendName, user: boolean): string | undefined {
  const lacks: string[] = [];
  if (Deno.uid() !== 0) lacks.push("root (uid 0)");
  if (user && testUser() === undefined) lacks.push('user "polythene-test"');
  for (const p of [...BACKEND_TOOLS[backend], "sh", user ? "setpriv" : ""]) {
    if (p !== "" && hostProgram(p) === undefined) lacks.push(p);
  }
  return lacks.length ? `needs ${lacks.join(", ")}` : undefined;
}

/**
 * Registers one test per shape (backend x root/user) that runs `fn` with a
 * fresh busybox store whose entry records `config`. `needs`, when set, names
 * something else this machine lacks, and skips them all.
 */
export function testEachShape(
  name: string,
  config: ImageConfig["config"] | undefined,
  fn: (ctx: ShapeContext) => Promise<void>,
  needs?: string,
): void {
  for (const backend of BACKEND_NAMES) {
    for (const asUser of [false, true]) {
      const label = `${name}: ${backend} as ${asUser ? "user" : "root"}`;
      const lacks = [missing(backend, asUser), needs].filter((m) => m);
      testNeeding(
        lacks.length ? lacks.join("; ") : undefined,
        label,
        async () => {
          const user = asUser ? testUser()! : undefined;
          const shape = {
            backend,
            user,
            runnable: !asUser || backend !== "chroot",
          };
          await withShape(shape, config, fn);
        },
      );
    }
  }
}

async function withShape(
  shape: Shape,
  config: ImageConfig["config"] | undefined,
  fn: (ctx: ShapeContext) => Promise<void>,
): Promise<void> {
  const source = shape.user ? await sourceReadableBy(shape.user) : undefined;
  const staged = await makeBusyboxStore();
  const pathDir = await Deno.makeTempDir({ prefix: "polythene-path-" });
  try {
    await Deno.chmod(pathDir, 0o755);
    for (const tool of [...BACKEND_TOOLS[shape.backend], "sh"]) {
      await Deno.symlink(hostProgram(tool)!, `${pathDir}/${tool}`);
    }
    if (config !== undefined) {
      await writeMetadata(staged.store, {
        schema: 1,
        uuid: staged.uuid,
        reference: "busybox-test",
        puller: "native",
        created: new Date().toISOString(),
        size: 0,
        config,
      });
    }
    const own = async (path: string) => {
      if (shape.user === undefined) return;
      const out = await new Deno.Command("chown", {
        args: ["-R", "-h", `${shape.user.uid}:${shape.user.gid}`, path],
      }).output();
      assert.ok(out.success, `chown ${path}`);
    };
    await own(staged.store);
    const cli: CliOptions = {
      user: shape.user,
      source: source?.dir,
      path: pathDir,
    };
    await fn({
      shape,
      staged,
      own,
      exec: (options, argv, extra = {}) =>
        runPolythene([
          "exec",
          "--verbose",
          "--store",
          staged.store,
          ...options,
          staged.uuid,
          "--",
          ...argv,
        ], { ...cli, ...extra }),
    });
  } finally {
    await Deno.remove(pathDir, { recursive: true });
    await staged.cleanup();
    await source?.cleanup();
  }
}

/**
 * The child-namespace shape: a user namespace where that user is root, and
 * where no further user namespace may be created.
 */
export const NO_MORE_NAMESPACES = [
  "unshare",
  "--user",
  "--map-root-user",
  "--mount",
  "sh",
  "-c",
  'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
  "sh",
];

/**
 * Runs `fn` with a temporary PATH directory (mode 0755) holding a symlink to
 * each of `tools` on this machine, and nothing else.
 */
export async function withPathOf(
  tools: string[],
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-path-" });
  try {
    await Deno.chmod(dir, 0o755);
    for (const tool of tools) {
      const target = hostProgram(tool);
      assert.ok(target !== undefined, `This machine lacks "${tool}"`);
      await Deno.symlink(target, `${dir}/${tool}`);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
