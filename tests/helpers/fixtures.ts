/**
 * Temporary stores holding a busybox rootfs, and the rig's unprivileged user.
 *
 * @module
 */

import { makeBusyboxRootfs } from "../../scripts/busybox_rootfs.ts";
import { programsNeeded } from "../../src/backends/backend.ts";
import { type BackendName, BACKENDS } from "../../src/backends/mod.ts";
import { hostProgram, type TestUser } from "./cli.ts";

/** A temporary store with one busybox entry. */
export interface StagedStore {
  /** The store root. */
  store: string;
  /** The busybox entry's UUID. */
  uuid: string;
  /** `STORE/UUID`. */
  rootfs: string;
  /** Removes the whole temporary directory. */
  cleanup(): Promise<void>;
}

/**
 * Makes a temporary store (mode 0700) holding one busybox rootfs, owned by
 * `owner` when given (so that user can run in it).
 */
export async function makeBusyboxStore(
  owner?: TestUser,
): Promise<StagedStore> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-test-" });
  await Deno.chmod(dir, 0o755);
  const store = `${dir}/store`;
  const uuid = await makeBusyboxRootfs(store);
  if (owner !== undefined) await chownTree(store, owner.uid, owner.gid);
  return {
    store,
    uuid,
    rootfs: `${store}/${uuid}`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The rig's unprivileged user, `polythene-test` (setup.sh creates it). */
export const TEST_USER_NAME = "polythene-test";

/**
 * The rig's second unprivileged user, with no range in /etc/subuid or
 * /etc/subgid (setup.sh creates it).
 */
export const NOSUB_USER_NAME = "polythene-nosub";

/** Looks a test user up in /etc/passwd; undefined when absent. */
export function testUser(wanted = TEST_USER_NAME): TestUser | undefined {
  const passwd = Deno.readTextFileSync("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid, , home] = line.split(":");
    if (name === wanted && uid && gid && home) {
      return { name, uid: Number(uid), gid: Number(gid), home };
    }
  }
  return undefined;
}

async function chownTree(path: string, uid: number, gid: number) {
  // `-h`: change symlinks themselves; the rootfs's absolute links would
  // otherwise reach the host's files.
  const out = await new Deno.Command("chown", {
    args: ["-R", "-h", `${uid}:${gid}`, path],
  }).output();
  if (!out.success) {
    throw new Error(`chown ${path}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Why `backend` cannot be tested as root here (not root, or a program it
 * declares is not on PATH), or undefined when it can.
 */
export function backendMissingAsRoot(backend: BackendName): string | undefined {
  if (Deno.uid() !== 0) return "root (these checks run as uid 0)";
  const programs = programsNeeded(
    BACKENDS.find((b) => b.name === backend)!,
    { uid: 0, realRoot: true },
  );
  const absent = programs.filter((p) => !onPath(p));
  return absent.length === 0 ? undefined : `${absent.join(", ")} not on PATH`;
}

/** Whether `program` is on this process's PATH. */
export function onPath(program: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${program}`).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * Whether `program` is on PATH or in the sbin directories (`hostProgram`),
 * where the tests find the tools they run as root.
 */
export function onHostPath(program: string): boolean {
  return hostProgram(program) !== undefined;
}

/** What a test needs of the machine; see {@linkcode missingFor}. */
export interface Needs {
  /** Real root (uid 0). */
  root?: boolean;
  /** The rig's user, `polythene-test`. */
  user?: boolean;
  /** Programs that must be found by `found` (default {@linkcode onPath}). */
  programs?: readonly string[];
  /** How a program is looked up, when not on this process's PATH alone. */
  found?: (program: string) => boolean;
  /** The answers of other checks: each names what is missing, or is undefined. */
  also?: readonly (string | undefined)[];
}

/**
 * What this machine lacks of `needs`, as {@linkcode testNeeding} takes it
 * (`needs root (uid 0), podman`), or undefined when nothing is missing.
 */
export function missingFor(needs: Needs): string | undefined {
  const missing: string[] = [];
  if (needs.root && Deno.uid() !== 0) missing.push("root (uid 0)");
  if (needs.user && testUser() === undefined) {
    missing.push(`the user "${TEST_USER_NAME}"`);
  }
  const found = needs.found ?? onPath;
  for (const program of needs.programs ?? []) {
    if (!found(program)) missing.push(program);
  }
  for (const other of needs.also ?? []) {
    if (other !== undefined) missing.push(other);
  }
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
}

/**
 * Registers a test that needs something this machine may lack. When
 * `missing` names what is absent, the test is skipped with that reason, but
 * under `CI=true` it fails instead: CI cannot silently skip.
 */
export function testNeeding(
  missing: string | undefined,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void> | void,
): void {
  if (missing === undefined) {
    Deno.test(name, fn);
  } else if (Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`Cannot run under CI=true: ${missing}`);
    });
  } else {
    Deno.test({ name: `${name} (skipped: ${missing})`, ignore: true, fn });
  }
}

/**
 * A step that needs something this machine lacks (`missing` says what):
 * skipped, but under `CI=true` a failed step instead.
 */
export async function stepNeeding(
  t: Deno.TestContext,
  missing: string,
  name: string,
): Promise<void> {
  if (Deno.env.get("CI") === "true") {
    await t.step(name, () => {
      throw new Error(`Cannot run under CI=true: ${missing}`);
    });
  } else {
    await t.step({
      name: `${name} (skipped: ${missing})`,
      ignore: true,
      fn() {},
    });
  }
}
