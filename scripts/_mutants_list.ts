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
const OVERLAY = "tests/e2e/exec_ephemeral_overlay_test.ts";

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
    description:
      "runAttached (every spawn) lets the host's environment reach the child",
    file: "src/process/spawn.ts",
    search: `      env,\n      clearEnv: true,\n`,
    replace: `      env,\n      clearEnv: false,\n`,
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
    name: "launcher-env-not-renamed",
    description:
      "an image's LD_PRELOAD reaches the host-side launcher of proot and chroot",
    file: "src/backends/launcher_env.ts",
    search:
      `    env[names.includes(key) ? \`\${RENAMED_PREFIX}\${key}\` : key] = value;`,
    replace: `    env[key] = value;`,
    tests: [{ file: "tests/e2e/exec_launcher_test.ts" }],
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
      `  if (problem !== undefined) {\n    throw new UnsafeStoreError(store, what + problem);`,
    replace:
      `  if (problem === "never") {\n    throw new UnsafeStoreError(store, what + problem);`,
    tests: [{
      file: "tests/e2e/store_lifecycle_test.ts",
      filter: "unsafe store roots",
    }],
  },
  {
    name: "bwrap-keeps-all-capabilities",
    description: "bubblewrap as root leaves the guest every capability",
    file: "src/backends/capabilities.ts",
    search:
      `    "--cap-drop",\n    "ALL",\n    ...GUEST_CAPABILITIES.flatMap((cap) => ["--cap-add", cap]),\n`,
    replace: ``,
    tests: [{ file: "tests/e2e/exec_capabilities_test.ts" }],
  },
  {
    name: "store-reachable-as-root",
    description: "as root, a store root other users can traverse is used",
    file: "src/store/root_safety.ts",
    search: `  if (uid === 0 && (mode & 0o077) !== 0) {`,
    replace: `  if (uid === 0 && (mode & 0o077) === 0o777) {`,
    tests: [{ file: "tests/e2e/store_root_perms_test.ts" }],
  },
  {
    name: "env-in-bwrap-argv",
    description: "the command's environment goes on bwrap's argv again",
    file: "src/backends/bubblewrap.ts",
    search: `  args.push("--chdir", spec.cwd, "--clearenv", "--args", "4");`,
    replace:
      `  args.push("--chdir", spec.cwd, "--clearenv", "--args", "4", ...bwrapEnvArgs(spec));`,
    tests: [{ file: "tests/e2e/exec_secrets_test.ts" }],
  },
  {
    name: "setup-failure-falls-through",
    description: "a backend failing to set up the real run falls through",
    file: "src/backends/run.ts",
    search:
      `    throw new SandboxSetupError(backend.name, outcome.code, outcome.reason);`,
    replace: `    continue;`,
    tests: [{ file: "tests/e2e/exec_downgrade_test.ts" }],
  },
  {
    name: "rootfs-shape-unchecked",
    description: "an image whose /proc or /dev is not a directory is run",
    file: "src/exec/rootfs_shape.ts",
    search: `    if (!info.isDirectory) {`,
    replace: `    if (!info.isDirectory && false) {`,
    tests: [{ file: "tests/e2e/exec_downgrade_test.ts" }],
  },
  {
    name: "metadata-written-through-links",
    description: "host-side writes into staging follow a link at the name",
    file: "src/store/safe_write.ts",
    search: `    await Deno.rename(tmp, target);`,
    replace: `    await Deno.writeFile(target, bytes);`,
    tests: [{ file: "tests/e2e/pull_host_writes_test.ts" }],
  },
  {
    name: "pax-global-applied",
    description: "a PAX global header's path applies to the entries after it",
    file: "src/image/layers/_tar_tap.ts",
    search: `            out.fill(0, i, i + take);`,
    replace: ``,
    tests: [{ file: "tests/e2e/pull_tar_names_test.ts" }],
  },
  {
    name: "control-characters-printed-raw",
    description: "text from images and registries reaches the terminal raw",
    file: "src/escape.ts",
    search: `  return text.replace(CONTROLS, escapeOne);`,
    replace: `  return text;`,
    tests: [{ file: "tests/e2e/escape_output_test.ts" }],
  },
  {
    name: "command-shares-the-session",
    description: "a command without a terminal stays in the caller's session",
    file: "src/backends/run.ts",
    search: `      newSession: pty === undefined,`,
    replace: `      newSession: false,`,
    tests: [{ file: "tests/e2e/exec_terminal_test.ts" }],
  },
  {
    name: "remover-starved",
    description: "new execs pass a waiting rm (no writer preference)",
    file: "src/store/lock.ts",
    search: `    gate?.lockSync(false);\n`,
    replace: ``,
    tests: [{
      file: "tests/e2e/cli_walkthrough_test.ts",
      filter: "starved",
    }],
  },
  {
    name: "no-watcher",
    description: "the command outlives a SIGKILLed polythene",
    file: "src/backends/run.ts",
    search: `        watcher = spawnWatcher(w.argv, w.env);`,
    replace: ``,
    tests: [{ file: "tests/e2e/exec_orphan_test.ts" }],
  },
  {
    name: "bwrap-host-writable",
    description: "as root, bwrap sets up with the host writable",
    file: "src/backends/bubblewrap.ts",
    search: `      argv: host.realRoot\n`,
    replace: `      argv: host.realRoot && false\n`,
    tests: [{
      file: "tests/e2e/exec_race_test.ts",
      filter: "bubblewrap's own",
    }],
  },

  {
    name: "ephemeral-writes-base",
    description: "an ephemeral run on an overlay runs on the entry itself",
    file: "src/exec/exec.ts",
    search: `...(overlay ? { rootfs: overlay.merged, overlay } : {}),`,
    replace: `...(overlay ? { overlay } : {}),`,
    tests: [{ file: OVERLAY, filter: "bwrap as root" }],
  },
  {
    name: "keep-ignores-whiteouts",
    description: "--keep copies the base over the run's upper layer",
    file: "src/backends/overlay.ts",
    search: "`ro,lowerdir=${plan.upper}:${plan.lower}${",
    replace: "`ro,lowerdir=${plan.lower}:${plan.upper}${",
    tests: [{ file: OVERLAY, filter: "--keep" }],
  },
  {
    name: "run-sweep-plain-remove",
    description: "prune cannot remove a killed unprivileged run's upper",
    file: "src/store/run_dir.ts",
    search:
      `  await openDirectories(path);\n  if (await remove()) return true;\n`,
    replace: `  return false;\n`,
    tests: [{ file: OVERLAY, filter: "unprivileged" }],
  },
];
