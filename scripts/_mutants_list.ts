/**
 * The named breaking edits that `scripts/mutants.ts` applies, one at a time.
 * Each is (file, exact search text, replacement) plus the test files that
 * must fail with it. The search text must occur exactly once in the file.
 *
 * @module
 */

/** One test run: a test file, optionally narrowed with `--filter`. */
export interface TestRun {
  /** Path from the repository root. */
  file: string;
  /** Passed to `deno test --filter`. */
  filter?: string;
}

/** One breaking edit and the tests that must notice it. */
export interface Mutant {
  /** Short stable name, for `--only`. */
  name: string;
  /** What the edit breaks, in words. */
  description: string;
  /** File to edit, from the repository root. */
  file: string;
  /** Exact text to replace; must occur exactly once. */
  search: string;
  /** What it becomes. */
  replace: string;
  /** Tried in order; the first that fails kills the mutant. */
  tests: TestRun[];
}

const LOCKS = { file: "tests/e2e/store_locks_test.ts" };
const TAMPER = { file: "tests/e2e/pull_tamper_test.ts" };
const HOSTILE = { file: "tests/e2e/extract_hostile_test.ts" };

/** The mutants, in the order they are tried. */
export const MUTANTS: readonly Mutant[] = [
  {
    name: "rm-without-lock",
    description: "rm takes a shared lock, so it does not wait for exec",
    file: "src/store/remove.ts",
    search: `    mode: "exclusive",\n    wait: options.wait,`,
    replace: `    mode: "shared",\n    wait: options.wait,`,
    tests: [LOCKS],
  },
  {
    name: "prune-without-lock",
    description: "prune takes a shared lock, so it removes an entry in use",
    file: "src/store/prune.ts",
    search: `      mode: "exclusive",\n      wait: false,`,
    replace: `      mode: "shared",\n      wait: false,`,
    tests: [LOCKS],
  },
  {
    name: "exec-without-lock",
    description: "exec runs its command without holding the entry's lock",
    file: "src/store/lock.ts",
    search: `    file.lockSync(false);\n`,
    replace: ``,
    tests: [LOCKS],
  },
  {
    name: "oci-without-digest-check",
    description: "the oci: and oci-archive: sources stop verifying blobs",
    file: "src/image/sources/oci_layout.ts",
    search: `    return file.readable.pipeThrough(
      verifyingStream(descriptor, {
        makeError: (_kind, text) => this.#fail(text),
      }),
    );`,
    replace: `    return file.readable;`,
    tests: [TAMPER],
  },
  {
    name: "diff-id-unchecked",
    description: "a layer whose content differs from its diff_id is accepted",
    file: "src/image/unpack.ts",
    search: `      if (actual !== diffId) {`,
    replace: `      if (actual === "never") {`,
    tests: [TAMPER],
  },
  {
    name: "timeout-sigterm",
    description: "--timeout sends SIGTERM instead of SIGKILL",
    file: "src/process/spawn.ts",
    search: `    timedOut = true;\n    deliver("SIGKILL");`,
    replace: `    timedOut = true;\n    deliver("SIGTERM");`,
    tests: [{ file: "tests/e2e/conformance_process_test.ts" }],
  },
  {
    name: "run-attached-without-clear-env",
    description: "runAttached lets the host's environment reach the backend",
    file: "src/process/spawn.ts",
    search: `    env: options.env,\n    clearEnv: true,\n    stdin: capture`,
    replace: `    env: options.env,\n    stdin: capture`,
    tests: [{ file: "tests/unit/process/spawn_test.ts" }],
  },
  {
    name: "command-env-from-host",
    description: "the command's environment starts from the host's",
    file: "src/exec/options.ts",
    search:
      `  const env: Record<string, string> = {};\n  for (const entry of sources`,
    replace:
      `  const env: Record<string, string> = Deno.env.toObject();\n  for (const entry of sources`,
    tests: [{ file: "tests/unit/exec/options_test.ts" }, {
      file: "tests/e2e/conformance_test.ts",
    }],
  },
  {
    name: "env-program-without-i",
    description: "proot and chroot run the command through env without -i",
    file: "src/backends/launcher_env.ts",
    search: `    spec.envProgram,\n    "-i",\n`,
    replace: `    spec.envProgram,\n`,
    // End to end this is invisible today: the launcher's own environment
    // is only PATH, which the command's environment always sets. The argv
    // test pins `env -i`.
    tests: [{ file: "tests/unit/exec/options_test.ts" }],
  },
  {
    name: "extract-follows-host-symlinks",
    description: "extraction looks at parents with stat, following symlinks " +
      "on the host instead of resolving them inside the rootfs",
    file: "src/image/layers/_tree.ts",
    search: `        const info = await Deno.lstat(host);`,
    replace: `        const info = await Deno.stat(host);`,
    tests: [HOSTILE],
  },
  {
    name: "extract-allows-dotdot",
    description: 'entry names with ".." are no longer refused',
    file: "src/image/layers/paths.ts",
    search: `    if (part === "..") {
      return {
        kind: "refused",`,
    replace: `    if (part === "..." + "never") {
      return {
        kind: "refused",`,
    tests: [HOSTILE],
  },
  {
    name: "whiteout-ignored",
    description: ".wh.NAME no longer removes NAME",
    file: "src/image/layers/whiteout.ts",
    search: `  return { kind: "remove", dir, name };`,
    replace: `  return { kind: "ignore" };`,
    tests: [{ file: "tests/e2e/extract_layers_test.ts" }, TAMPER],
  },
  {
    name: "opaque-whiteout-ignored",
    description: ".wh..wh..opq no longer empties its directory",
    file: "src/image/layers/whiteout.ts",
    search: `  if (base === OPAQUE_MARKER) return { kind: "opaque", dir };`,
    replace: `  if (base === OPAQUE_MARKER) return { kind: "ignore" };`,
    tests: [{ file: "tests/e2e/extract_layers_test.ts" }],
  },
  {
    name: "store-root-unchecked",
    description: "an unsafe store root (symlink, 0777, another owner) is used",
    file: "src/store/root_safety.ts",
    search:
      `  if (problem !== undefined) throw new UnsafeStoreError(store, problem);`,
    replace:
      `  if (problem === "never") throw new UnsafeStoreError(store, problem);`,
    tests: [{
      file: "tests/e2e/store_lifecycle_test.ts",
      filter: "unsafe store roots",
    }],
  },
];
