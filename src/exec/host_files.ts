/**
 * Files bound into one run: the host's `/etc/resolv.conf` and `/etc/hosts`
 * (`--hosts host`), and the files polythene writes, the apt snippet of root
 * emulation and the no-services policy. The written files live in the run's
 * private directory in the store's state area
 * (`STORE/.polythene/run/<random>/files`, see `run_dir.ts`), removed after
 * the run, so a command that writes to them changes only the copies.
 *
 * The host's two files are bound read-only as they are (`Mount.hostFile`):
 * on a warm `exec` that saves a directory, two reads, two writes and two
 * chmods per run. A backend that cannot make a bind read-only (proot) gets
 * private copies instead, made just before it starts
 * (`backends/host_copies.ts`). The host's files are named by polythene,
 * never reached through the rootfs; the rootfs's own `etc/resolv.conf` is
 * only a mount point, resolved inside the rootfs (see `mount_point.ts`), so
 * a symlink there cannot make polythene read or write anything outside it.
 *
 * Permissions: `--allow-read=/etc`, `--allow-write` on the store.
 *
 * @module
 */

import type { Mount } from "../backends/backend.ts";
import { mountPointInRoot, type MountPointMaker } from "./mount_point.ts";
import { resolveInRoot } from "./resolve_in_root.ts";

/** The host files `--hosts host` brings in. */
export const HOST_FILES = ["/etc/resolv.conf", "/etc/hosts"] as const;

/** Where the apt snippet of root emulation is bound. */
export const APT_SNIPPET = "/etc/apt/apt.conf.d/00polythene-sandbox";

/**
 * apt drops privileges to `_apt` for downloads, which a faked or mapped root
 * cannot do. This is Charliecloud's and enroot's fix.
 */
export const APT_SNIPPET_TEXT =
  "// Written by polythene for this run only: root is " +
  "faked or mapped, so apt cannot switch to _apt.\n" +
  'APT::Sandbox::User "root";\n';

/** Where the no-services policy is bound. */
export const POLICY_RC_D = "/usr/sbin/policy-rc.d";

/**
 * Debian's container images ship this: `invoke-rc.d` asks it before a
 * maintainer script starts or stops a service, and 101 means "not allowed",
 * so installs never start daemons in a sandbox that goes away (or, under
 * proot, that has no pid namespace to end them).
 */
export const POLICY_RC_D_TEXT =
  "#!/bin/sh\n# Written by polythene for this run only: no services are " +
  "started or stopped by package scripts.\nexit 101\n";

/** A private directory of files bound into one run. */
export class RunFiles {
  #dir: string | undefined;
  readonly #log: (message: string) => void;
  readonly #sh: MountPointMaker;
  readonly #parent: string;

  /**
   * @param log Verbose log sink.
   * @param sh Absolute path of `sh`, which makes missing mount points, or
   * what records them (`MountPointMaker`).
   * @param parent The run's private directory (mode 0700), where the files
   * go, in a `files` directory of their own.
   */
  constructor(
    log: (message: string) => void,
    sh: MountPointMaker,
    parent: string,
  ) {
    this.#log = log;
    this.#sh = sh;
    this.#parent = parent;
  }

  /**
   * The read-only mounts of the host's `/etc/resolv.conf` and `/etc/hosts`
   * over the rootfs's own. A file the host lacks (or that is not a regular
   * file once links are followed), or whose place in the rootfs cannot be a
   * mount point, is skipped with a log line.
   */
  hostFiles(rootfs: string): Mount[] {
    const mounts: Mount[] = [];
    for (const path of HOST_FILES) {
      if (!isReadableFile(path)) {
        this.#log(`--hosts host: the host has no readable ${path}; skipped`);
        continue;
      }
      let target: string;
      try {
        target = mountPointInRoot(rootfs, path, "file", this.#sh);
      } catch (error) {
        this.#log(`${path}: ${(error as Error).message}; skipped`);
        continue;
      }
      mounts.push({ source: path, target, readOnly: true, hostFile: true });
    }
    return mounts;
  }

  /**
   * The apt snippet's mount, when the rootfs has apt (`/etc/apt/apt.conf.d`).
   * Its mount point stays behind as an empty file, which apt ignores.
   */
  aptSnippet(rootfs: string): Mount | undefined {
    const dir = resolveInRoot(rootfs, "/etc/apt/apt.conf.d");
    if (dir === undefined || !isDirectory(dir)) return undefined;
    return this.#mount(rootfs, APT_SNIPPET, APT_SNIPPET_TEXT);
  }

  /**
   * The no-services policy's mount, when the rootfs has `invoke-rc.d` and no
   * executable `policy-rc.d` of its own (an image's own policy wins). Its
   * mount point stays behind as an empty, non-executable file, which
   * `invoke-rc.d` ignores.
   */
  policyRcd(rootfs: string): Mount | undefined {
    const invoke = resolveInRoot(rootfs, "/usr/sbin/invoke-rc.d");
    if (invoke === undefined || !isExecutableFile(invoke)) return undefined;
    const own = resolveInRoot(rootfs, POLICY_RC_D);
    if (own !== undefined && isExecutableFile(own)) return undefined;
    return this.#mount(rootfs, POLICY_RC_D, POLICY_RC_D_TEXT, 0o755);
  }

  /** Removes the directory. Idempotent. */
  cleanup(): void {
    if (this.#dir === undefined) return;
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch {
      // Already gone.
    }
    this.#dir = undefined;
  }

  #mount(
    rootfs: string,
    target: string,
    text: string,
    mode = 0o644,
  ): Mount | undefined {
    let resolved: string;
    try {
      resolved = mountPointInRoot(rootfs, target, "file", this.#sh);
    } catch (error) {
      this.#log(`${target}: ${(error as Error).message}; skipped`);
      return undefined;
    }
    if (this.#dir === undefined) {
      Deno.mkdirSync(`${this.#parent}/files`, { mode: 0o700 });
      this.#dir = `${this.#parent}/files`;
    }
    const source = `${this.#dir}/${target.split("/").at(-1)}`;
    Deno.writeTextFileSync(source, text, { mode });
    Deno.chmodSync(source, mode);
    return { source, target: resolved, readOnly: true, privateCopy: true };
  }
}

/** A regular file (links followed) that this process can open for reading. */
function isReadableFile(path: string): boolean {
  try {
    using file = Deno.openSync(path, { read: true });
    return file.statSync().isFile;
  } catch {
    return false;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
