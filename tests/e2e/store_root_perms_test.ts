/**
 * As root, nothing staged is reachable by other users. A pull as root keeps
 * an image's setuid-root programs, and an entry keeps the image's own mode
 * for `/` (0755), so the store root must be root's alone: a store root made
 * with a plain `mkdir` (0755) is refused, and another user
 * (`setpriv --reuid=65534`) cannot reach a setuid-root probe (a static C
 * program that prints its effective uid) in an entry of a store pull made.
 *
 * Needs root, gcc and setpriv; under `CI=true` a missing one fails the test
 * instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hostProgram, runPolythene } from "../helpers/cli.ts";
import {
  buildStatic,
  cProbesMissing,
  EUID_PROBE_C,
} from "../helpers/c_probes.ts";
import { show } from "../helpers/exec_shapes.ts";
import { testNeeding } from "../helpers/fixtures.ts";
import { buildImage, writeOciLayout } from "../helpers/oci_image.ts";
import { busyboxEntries } from "../helpers/pull_checks.ts";

const MISSING = [
  Deno.uid() === 0 ? undefined : "root (uid 0)",
  cProbesMissing(),
  hostProgram("setpriv") === undefined ? "setpriv" : undefined,
].filter((m) => m !== undefined).join(", ") || undefined;

const NOBODY = 65534;
const SUID_PROBE = "bin/suid-probe";

/**
 * Runs `path` as uid/gid 65534 with no groups; its status and output. The
 * exec is made by a shell already running as that user: setpriv's own exec
 * still holds root's capabilities while it looks the path up, so
 * `setpriv --reuid=65534 -- PATH` would reach through a 0700 directory.
 */
async function runAsNobody(
  path: string,
): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(hostProgram("setpriv")!, {
    args: [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--",
      "/bin/sh",
      "-c",
      'exec "$0"',
      path,
    ],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    out: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** Every `bin/suid-probe` under `store`, in entries and in staging. */
async function probesUnder(store: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (path.endsWith(`/${SUID_PROBE}`) && entry.isFile) found.push(path);
      if (entry.isDirectory && depth < 5) await walk(path, depth + 1);
    }
  };
  await walk(store, 0).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  return found;
}

/**
 * Runs `fn` with a directory others can traverse (0755) holding an OCI
 * layout, `oci:DIR/oci:probe`, of a busybox image with a setuid-root probe,
 * and the probe itself; removes it all afterwards.
 */
async function withSetuidImage(
  fn: (dir: string, image: string, probe: Uint8Array) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-perms-" });
  try {
    await Deno.chmod(dir, 0o755);
    const built = await buildStatic(EUID_PROBE_C, dir, "euid-probe");
    const probe = await Deno.readFile(built);
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(),
          { name: SUID_PROBE, content: probe, mode: 0o4755, uid: 0, gid: 0 },
        ],
      }],
    });
    await writeOciLayout(`${dir}/oci`, image, "probe");
    await fn(dir, `oci:${dir}/oci:probe`, probe);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testNeeding(
  MISSING,
  "store root as root: a 0755 store is refused, so no other user reaches a setuid-root program",
  async () => {
    await withSetuidImage(async (dir, image) => {
      const store = `${dir}/store`;
      await Deno.mkdir(store);
      await Deno.chmod(store, 0o755); // a plain `mkdir` under umask 022
      const pull = await runPolythene(["pull", "--quiet", "-s", store, image]);
      assert.equal(pull.code, 1, show(pull));
      assert.match(
        pull.stderr,
        /Refusing to use the store ".*": as root it must be reachable by you alone \(mode 0755\)/,
        show(pull),
      );
      assert.match(pull.stderr, /chmod 700/, show(pull));
      // Whatever is there, nobody else may run a setuid-root program of it.
      for (const probe of await probesUnder(store)) {
        const run = await runAsNobody(probe);
        assert.doesNotMatch(run.out, /euid=0/, `${probe}: ${run.out}`);
      }
      assert.deepEqual(await probesUnder(store), [], "nothing was staged");
    });
  },
);

testNeeding(
  MISSING,
  "store root as root: an entry's setuid-root program is out of other users' reach, and loosening the store is refused",
  async () => {
    await withSetuidImage(async (dir, image, probe) => {
      const store = `${dir}/store`;
      const pull = await runPolythene(["pull", "--quiet", "-s", store, image]);
      assert.equal(pull.code, 0, show(pull));
      const uuid = pull.stdout.trim();
      const inEntry = `${store}/${uuid}/${SUID_PROBE}`;

      // The bit was kept (extraction as root), so the check below is real.
      const info = await Deno.stat(inEntry);
      assert.equal((info.mode ?? 0) & 0o7777, 0o4755);
      assert.equal(info.uid, 0);
      assert.equal((await Deno.stat(store)).mode! & 0o777, 0o700);
      // The same program, where nobody can reach it, runs as root.
      const reachable = `${dir}/reachable-probe`;
      await Deno.writeFile(reachable, probe);
      await Deno.chmod(reachable, 0o4755);
      const control = await runAsNobody(reachable);
      assert.match(control.out, /^euid=0$/m, control.out);

      const denied = await runAsNobody(inEntry);
      assert.notEqual(denied.code, 0, denied.out);
      assert.match(denied.out, /Permission denied/, denied.out);
      assert.doesNotMatch(denied.out, /euid=/, denied.out);

      // Loosened later: every command refuses the store.
      await Deno.chmod(store, 0o711);
      for (const args of [["list"], ["exec", uuid, "--", "echo", "ran"]]) {
        const [verb, ...rest] = args;
        const result = await runPolythene([verb!, "-s", store, ...rest]);
        assert.equal(result.code, 1, show(result));
        assert.match(result.stderr, /reachable by you alone \(mode 0711\)/);
      }
      await Deno.chmod(store, 0o700);
      await Deno.chmod(`${store}/.polythene`, 0o755);
      const state = await runPolythene([
        "exec",
        "-s",
        store,
        uuid,
        "--",
        "echo",
        "ran",
      ]);
      assert.equal(state.code, 1, show(state));
      assert.match(
        state.stderr,
        /its state directory "\.polythene": as root it must be reachable by you alone \(mode 0755\)/,
        show(state),
      );
      await Deno.chmod(`${store}/.polythene`, 0o700);
      const ok = await runPolythene([
        "exec",
        "-s",
        store,
        uuid,
        "--",
        "echo",
        "ran",
      ]);
      assert.equal(ok.code, 0, show(ok));
      assert.equal(ok.stdout, "ran\n", show(ok));
    });
  },
);
