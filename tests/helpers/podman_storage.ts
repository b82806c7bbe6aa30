/**
 * podman in a storage of its own: a `storage.conf` (vfs, graph and run
 * roots under a test's directory), a `containers.conf` whose engine
 * temporary directory (`/run/libpod` by default) and image-copy directory
 * (`/var/tmp` by default) are there too, and the
 * environment that makes podman read them, so tests never touch the host's
 * containers storage and run where the host is read-only (the mutants'
 * jail).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCommand } from "./command.ts";

/** What podman needs to use the storage {@linkcode podmanStorage} wrote. */
export interface PodmanStorageEnv {
  /** The `storage.conf` written. */
  CONTAINERS_STORAGE_CONF: string;
  /** The `containers.conf` written beside it. */
  CONTAINERS_CONF: string;
  /** Always `vfs`, as in the file. */
  CONTAINERS_STORAGE_DRIVER: "vfs";
  [name: string]: string;
}

/**
 * Writes `conf` (default `DIR/storage.conf`) with podman's graph and run
 * roots at `DIR/graph` and `DIR/run`.
 *
 * @returns The environment for podman (extend it, e.g. with `PATH`).
 */
export async function podmanStorage(
  dir: string,
  conf = `${dir}/storage.conf`,
): Promise<PodmanStorageEnv> {
  await Deno.writeTextFile(
    conf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/graph"\n` +
      `runroot = "${dir}/run"\n`,
  );
  const engine = `${dir}/containers.conf`;
  await Deno.mkdir(`${dir}/podman-copy`, { recursive: true });
  await Deno.writeTextFile(
    engine,
    `[engine]\ntmp_dir = "${dir}/podman-tmp"\nevents_logger = "file"\n` +
      `events_logfile_path = "${dir}/podman-events.log"\n` +
      `image_copy_tmp_dir = "${dir}/podman-copy"\n`,
  );
  return {
    CONTAINERS_STORAGE_CONF: conf,
    CONTAINERS_CONF: engine,
    CONTAINERS_STORAGE_DRIVER: "vfs",
  };
}

/**
 * Runs `podman ARGS` with `env` (a storage's, see {@linkcode podmanStorage})
 * added to this process's; asserts it succeeded and returns its stdout,
 * trimmed.
 */
export async function podman(
  env: Record<string, string>,
  ...args: string[]
): Promise<string> {
  const result = await runCommand(["podman", ...args], { env });
  assert.equal(result.code, 0, `podman ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Drops podman's images and containers from the storage `env` names
 * (`podman [...globalFlags] system reset --force`); its output is ignored.
 */
export async function resetPodmanStorage(
  env: Record<string, string>,
  globalFlags: readonly string[] = [],
): Promise<void> {
  await new Deno.Command("podman", {
    args: [...globalFlags, "system", "reset", "--force"],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}
