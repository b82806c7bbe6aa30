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
const PUSH = { file: "tests/e2e/push_registry_test.ts" };
const OUTPUT_COMMIT_PUSH = { file: "tests/e2e/output_commit_push_test.ts" };
const COMMIT = {
  file: "tests/e2e/commit_export_test.ts",
  filter: "difference layer",
};
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
    search:
      `      const readOnly = hostReadOnlyScript(hostRo, writable, argv);\n`,
    replace: `      const readOnly = argv;\n`,
    tests: [{
      file: "tests/e2e/exec_race_test.ts",
      filter: "bubblewrap's own",
    }],
  },
  {
    name: "push-no-skip",
    description: "push uploads a blob the registry already has",
    file: "src/image/registry/push_upload.ts",
    search: `  if (head.status === 200) {`,
    replace: `  if (head.status === 200 && false) {`,
    tests: [{ file: PUSH.file, filter: "skips what the registry has" }],
  },
  {
    name: "push-resume-from-zero",
    description: "a reset upload ignores the registry's Range",
    file: "src/image/registry/push_upload.ts",
    search: `        offset = status.offset;`,
    replace: `        offset = 0;`,
    tests: [{ file: PUSH.file, filter: "a reset mid-upload" }],
  },
  {
    name: "push-manifest-no-retry",
    description: "a 5xx on the manifest PUT is not retried",
    file: "src/image/registry/push.ts",
    search: `      body: manifest.bytes,\n`,
    replace: `      body: manifest.bytes,\n      attempts: 1,\n`,
    tests: [{ file: PUSH.file, filter: "a 5xx on the manifest PUT" }],
  },
  {
    name: "run-not-ephemeral",
    description: "run executes in the stored entry instead of a copy",
    file: "src/cli/run.ts",
    search: `{ ...values, ephemeral: true }`,
    replace: `{ ...values }`,
    tests: [{ file: "tests/e2e/run_test.ts" }],
  },
  {
    name: "run-always-pulls",
    description: "run --pull missing pulls even when an entry is stored",
    file: "src/image/entry_for_image.ts",
    search:
      `  if (stored !== undefined) return { action: "use", uuid: stored };`,
    replace: ``,
    tests: [{ file: "tests/unit/image/entry_for_image_test.ts" }, {
      file: "tests/e2e/run_test.ts",
    }],
  },
  {
    name: "reuse-ignores-digest",
    description: "pull --reuse returns an entry of another digest",
    file: "src/image/reuse.ts",
    search:
      `  if (wanted.digest !== undefined && entry.digest !== wanted.digest) {`,
    replace: `  if (wanted.digest === "never") {`,
    tests: [{ file: "tests/e2e/run_test.ts" }],
  },
  {
    name: "progress-no-byte-count",
    description: "a layer's bar never counts the bytes read",
    file: "src/progress.ts",
    search: `      progress.advance(bytes);\n`,
    replace: ``,
    tests: [{ file: "tests/e2e/output_test.ts", filter: "progress" }],
  },
  {
    name: "progress-group-left-open",
    description: "under GitHub Actions a pull's group is never closed",
    file: "src/cli/progress.ts",
    search: `      if (grouped) write("::endgroup::\\n");`,
    replace: ``,
    tests: [{ file: "tests/unit/cli/progress_test.ts" }],
  },
  {
    name: "emulation-not-passed",
    description:
      "exec ignores the recorded foreign platform, so bubblewrap runs an arm64 image natively",
    file: "src/exec/exec.ts",
    search: `      ...(emulation === undefined ? {} : { emulation }),\n`,
    replace: ``,
    tests: [{ file: "tests/e2e/exec_arch_test.ts" }],
  },
  {
    name: "proot-without-qemu",
    description: "proot runs a foreign image without -q",
    file: "src/backends/proot.ts",
    search: `    ...(qemu === undefined ? [] : ["-q", qemu]),\n`,
    replace: ``,
    tests: [{ file: "tests/e2e/exec_arch_test.ts" }],
  },
  {
    name: "binfmt-without-f",
    description:
      "bubblewrap and chroot accept a binfmt_misc entry without the F flag",
    file: "src/backends/emulation.ts",
    search: `  if (!entry.flags.includes("F")) {`,
    replace: `  if (!entry.flags.includes("")) {`,
    tests: [{ file: "tests/unit/backends/emulation_test.ts" }],
  },
  {
    name: "binfmt-root-single-map",
    description:
      "as root, the private binfmt_misc's user namespace maps uid 0 alone, so other owners show as 65534",
    file: "src/backends/binfmt.ts",
    search: "  printf '0 0 4294967295\\\\n' > /proc/$$/uid_map\n",
    replace: "  printf '0 0 1\\\\n' > /proc/$$/uid_map\n",
    tests: [{ file: "tests/e2e/exec_arch_binfmt_test.ts" }],
  },
  {
    name: "binfmt-without-p",
    description:
      "the private binfmt_misc entry drops argv[0]: a busybox applet re-exec'd as sleep starts sh",
    file: "src/backends/binfmt.ts",
    search: `:$2:M::$3:$4:$5:PF"`,
    replace: `:$2:M::$3:$4:$5:F"`,
    tests: [{
      file: "tests/e2e/conformance_process_test.ts",
      filter: "bubblewrap under qemu-user",
    }],
  },
  {
    name: "binfmt-private-unused",
    description:
      "bubblewrap and chroot refuse a foreign image even where exec made a private binfmt_misc instance",
    file: "src/backends/emulation.ts",
    search: `  if (!usable && emulation.privateBinfmt) {`,
    replace: `  if (!usable && !emulation) {`,
    tests: [{ file: "tests/e2e/exec_arch_test.ts" }],
  },
  {
    name: "commit-no-whiteouts",
    description: "commit writes no whiteouts, so deleted base files come back",
    file: "src/image/commit/layer_plan.ts",
    search:
      '          items.push({ kind: "whiteout", key: join(key, `.wh.${name}`) });\n',
    replace: "",
    // The Debian round trip kills it too, but needs Debian's mirror and a
    // writable apt cache, which the mutants' jail does not give.
    tests: [{ file: "tests/unit/image/commit/layer_plan_test.ts" }, COMMIT],
  },
  {
    name: "commit-whole-tree",
    description: "commit writes the whole tree again instead of the difference",
    file: "src/image/commit/layer_plan.ts",
    search: "    const whole = base === undefined || forced;\n",
    replace: "    const whole = true;\n",
    tests: [{ file: "tests/unit/image/commit/layer_plan_test.ts" }, {
      file: "tests/e2e/commit_debian_test.ts",
    }],
  },
  {
    name: "commit-keeps-mount-points",
    description: "commit puts the empty mount points exec made into the image",
    file: "src/image/commit/commit.ts",
    search: "      if (info.isFile && info.size === 0) out.add(key);\n",
    replace: "",
    tests: [COMMIT],
  },
  {
    name: "image-index-without-lock",
    description: "parallel commits overwrite each other's index.json",
    file: "src/image/local_images.ts",
    search: "  using _lock = await lockStateFile(`${layout}/index.lock`);\n",
    replace: "",
    tests: [{ file: "tests/unit/image/local_images_test.ts" }],
  },
  {
    name: "enforcing-guesses",
    description:
      "short-name-mode enforcing picks the first search registry instead of refusing an ambiguous name",
    file: "src/image/registries/candidates.ts",
    search: `  if (mode === "enforcing" && candidates.length > 1) {`,
    replace: `  if (mode === "enforcing" && candidates.length > 99) {`,
    tests: [
      { file: "tests/unit/image/registries/candidates_test.ts" },
      { file: "tests/e2e/pull_registries_conf_test.ts" },
    ],
  },
  {
    name: "proxy-loopback",
    description: "loopback registries go through HTTPS_PROXY/HTTP_PROXY",
    file: "src/image/registry/proxy.ts",
    search: `  if (ip !== undefined && isLoopback(ip)) return false;\n`,
    replace: ``,
    tests: [{ file: "tests/unit/image/registry/proxy_test.ts" }],
  },
  {
    name: "auto-hides-errors",
    description:
      "--puller auto falls through to podman on any failure but TLS (auth, digest)",
    file: "src/image/native_pull.ts",
    search: `    error.kind === "network";`,
    replace: `    error.kind !== "tls";`,
    // pull_auto_test kills it too, but the podman it starts (with the
    // CLI's cleared environment) writes to /var/tmp, read-only in the jail.
    tests: [{ file: "tests/unit/image/native_pull_test.ts" }],
  },
  {
    name: "stack-copy-hardlinks",
    description: "warm pulls and clones hardlink entries to their source",
    file: "src/store/copy_tree.ts",
    search: `  return [cp, "-a", "--reflink=auto", "--", `,
    replace: `  return [cp, "-al", "--reflink=auto", "--", `,
    tests: [{ file: "tests/e2e/pull_stacks_test.ts", filter: "layer-stack" }],
  },
  {
    name: "stack-never-pruned",
    description: "prune keeps a layer stack no entry refers to",
    file: "src/store/layer_stacks.ts",
    search:
      "      if (await usedBy(`${path}/stack.json`, referenced)) continue;",
    replace: "      continue;",
    tests: [{ file: "tests/e2e/pull_stacks_test.ts", filter: "layer-stack" }],
  },
  {
    name: "stack-ignores-caps",
    description: "a cached layer stack is copied past the pull's image caps",
    file: "src/image/stacked_unpack.ts",
    search: "  return record.tarBytes <= limits.maxImageBytes &&",
    replace: "  return true || record.tarBytes <= limits.maxImageBytes &&",
    tests: [{ file: "tests/unit/image/stacked_unpack_test.ts" }],
  },
  {
    name: "staging-not-spread",
    description:
      "the staging root is not marked +T, so entries land near the store",
    file: "src/store/staging.ts",
    search: "  await spreadEntries(root, log);",
    replace: "",
    tests: [{ file: "tests/unit/store/spread_test.ts" }],
  },
  {
    name: "spread-retries",
    description: "a failed chattr is run again for every staging directory",
    file: "src/store/spread.ts",
    search: "  if (known !== undefined) return known;",
    replace: "  if (known === true) return known;",
    tests: [{ file: "tests/unit/store/spread_test.ts" }],
  },
  {
    name: "pool-drain-early",
    description: "the write pool's drain returns before queued writes end",
    file: "src/image/layers/_pool.ts",
    search: "  async drain(): Promise<void> {\n    await this.settle();",
    replace: "  async drain(): Promise<void> {",
    tests: [{ file: "tests/unit/layers/pool_test.ts" }],
  },
  {
    name: "pooled-file-no-mtime",
    description: "small files written by the pool keep the time of writing",
    file: "src/image/layers/_applier.ts",
    search: "        if (m.mtime) Deno.utimeSync(node.host, m.mtime, m.mtime);",
    replace: "",
    tests: [{
      file: "tests/e2e/extract_reference_test.ts",
      filter: "umoci",
    }],
  },
  {
    name: "host-files-writable",
    description: "the host's resolv.conf and hosts are bound writable",
    file: "src/exec/host_files.ts",
    search: `source: path, target, readOnly: true, hostFile: true`,
    replace: `source: path, target, readOnly: false, hostFile: true`,
    tests: [{ file: "tests/e2e/exec_host_files_test.ts" }],
  },
  {
    name: "proot-host-files-uncopied",
    description: "proot binds the host's resolv.conf itself, writable",
    file: "src/backends/host_copies.ts",
    search: `  return !backend.isolates.mounts &&`,
    replace: `  return false && !backend.isolates.mounts &&`,
    tests: [{ file: "tests/e2e/exec_host_files_test.ts", filter: "proot" }],
  },
  {
    name: "exec-reads-every-command",
    description: "the dispatcher imports pull with a literal specifier",
    file: "src/cli/main.ts",
    search: `const { pullCommand } = await loadCommand<
            typeof import("./pull.ts")
          >("pull");`,
    replace: `const { pullCommand } = await import("./pull.ts");`,
    tests: [{ file: "tests/unit/cli/exec_graph_test.ts" }],
  },
  {
    name: "compile-without-includes",
    description: "the binary would hold the dispatcher but no command",
    file: "src/permissions.ts",
    search: `].flatMap((file) => [
    "--include",
    file,
  ]);`,
    replace: `].flatMap((_file: string) => [] as string[]);`,
    tests: [{ file: "tests/e2e/compile_includes_test.ts" }],
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
    file: "src/store/run_sweep.ts",
    search:
      `  await openDirectories(path);\n  if (await remove()) return true;\n`,
    replace: `  return false;\n`,
    tests: [{ file: OVERLAY, filter: "unprivileged" }],
  },
  {
    name: "chroot-dev-nodes",
    description:
      "chroot's /dev tmpfs is not nodev: a root guest opens a device node it makes there",
    file: "src/backends/chroot.ts",
    search: `nosuid,nodev,mode=0755`,
    replace: `nosuid,mode=0755`,
    tests: [{
      file: "tests/e2e/exec_device_nodes_test.ts",
      filter: "as root on chroot",
    }],
  },
  {
    name: "registry-file-url",
    description:
      "a token realm or upload Location of file: is fetched (a local file read)",
    file: "src/image/registry/redirect.ts",
    search:
      `  if (url.protocol === "https:" || url.protocol === "http:") return undefined;`,
    replace: `  if (url.protocol !== "ftp:") return undefined;`,
    tests: [{ file: "tests/e2e/registry_schemes_test.ts" }],
  },
  {
    name: "platform-lie-recorded",
    description:
      "pull records the image's own foreign platform, so exec emulates it (and may fall back to proot)",
    file: "src/image/platform.ts",
    search: `  if (have.architecture === asked.architecture) return undefined;`,
    replace: `  if (have.architecture !== asked.os) return undefined;`,
    tests: [{ file: "tests/e2e/pull_platform_lie_test.ts" }],
  },
  {
    name: "commit-follows-links",
    description:
      "commit scans the entry with stat: a guest's symlink to /etc/shadow is read into the layer",
    file: "src/image/commit/entry_tree.ts",
    search: `      info = await Deno.lstat(path);`,
    replace: `      info = await Deno.stat(path);`,
    tests: [{ file: "tests/e2e/commit_special_files_test.ts" }],
  },
  {
    name: "registries-conf-any-owner",
    description:
      "as root, registries.conf files other users may write are read",
    file: "src/image/registries/load.ts",
    search: `  const asRoot = (options.uid ?? Deno.uid()) === 0;`,
    replace: `  const asRoot = options.uid === -1;`,
    tests: [{ file: "tests/unit/image/registries/load_test.ts" }],
  },
  {
    name: "push-progress-no-bytes",
    description: "push's progress never hears the bytes the registry took",
    file: "src/image/registry/push.ts",
    search: `onSent: (bytes) => progress.advance(bytes),`,
    replace: `onSent: () => {},`,
    tests: [OUTPUT_COMMIT_PUSH],
  },
  {
    name: "push-progress-skip-as-upload",
    description: "a blob the registry has is shown as an upload",
    file: "src/image/registry/push.ts",
    search:
      `if (outcome === "exists") skipItem(progress, "the registry has it");`,
    replace: `if (outcome === "exists") progress.end();`,
    tests: [OUTPUT_COMMIT_PUSH],
  },
  {
    name: "commit-progress-no-entries",
    description: "commit's progress never counts the members written",
    file: "src/image/commit/layer_writer.ts",
    search: `progress.written(++done, content);`,
    replace: `++done;`,
    tests: [
      { file: "tests/unit/image/commit/layer_writer_test.ts" },
      OUTPUT_COMMIT_PUSH,
    ],
  },
  {
    name: "push-ignores-proxy",
    description: "push connects directly, whatever HTTPS_PROXY says",
    file: "src/image/registry/push_connection.ts",
    search: `proxyEnv: options.proxyEnv ?? processProxyEnv,`,
    replace: `proxyEnv: options.proxyEnv ?? (() => undefined),`,
    tests: [{ file: "tests/e2e/pull_proxy_test.ts" }],
  },
  {
    name: "push-progress-per-blob-only",
    description: "a chunked upload reports its bytes only at the end",
    file: "src/image/registry/push_upload.ts",
    search: `offset = chunk.end;\n          sent(offset);`,
    replace: `offset = chunk.end;`,
    tests: [PUSH],
  },
  {
    name: "exec-reads-every-backend",
    description: "the fallback loop imports proot with a literal specifier",
    file: "src/backends/run.ts",
    search: `import { loadBackend } from "./backend_modules.ts";`,
    replace: `import { loadBackend } from "./backend_modules.ts";
import { proot as _proot } from "./proot.ts";`,
    tests: [{ file: "tests/unit/cli/exec_graph_test.ts" }],
  },
  {
    name: "compile-without-backends",
    description: "the compile argv leaves out the lazily loaded backends",
    file: "src/permissions.ts",
    search: `    ...backendModuleFiles(),
`,
    replace: ``,
    tests: [{ file: "tests/unit/permissions_test.ts" }],
  },
  {
    name: "compile-without-rare-exec-modules",
    description:
      "the compile argv leaves out the seccomp, subid and emulation modules",
    file: "src/permissions.ts",
    search: `    ...execLazyFiles(),
`,
    replace: ``,
    tests: [{ file: "tests/unit/permissions_test.ts" }],
  },
  {
    name: "exec-reads-seccomp",
    description: "bubblewrap's module loads the filter builder on every run",
    file: "src/backends/id_map_bwrap.ts",
    search: `import { SECCOMP_FD } from "./status.ts";`,
    replace: `import { SECCOMP_FD } from "./seccomp.ts";`,
    tests: [{ file: "tests/unit/cli/exec_graph_test.ts" }],
  },
];
