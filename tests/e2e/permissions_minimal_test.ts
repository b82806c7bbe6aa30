/**
 * The permission list is minimal: remove any one flag, or any one program
 * from `--allow-run`, and some documented command fails with Deno's refusal
 * (`--no-prompt` turns a missing permission into an error). The rest of the
 * e2e suite shows the list is sufficient.
 *
 * @module
 */

import assert from "node:assert/strict";
import { permissionFlags } from "../../src/permissions.ts";
import { makeBusyboxStore, onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import { busyboxEntries } from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The flags with `drop` taken out: a whole flag, or one `--allow-run` name. */
function without(drop: string): string[] {
  return permissionFlags().flatMap((flag) => {
    if (flag === drop) return [];
    if (flag.startsWith("--allow-run=")) {
      const names = flag.slice(12).split(",").filter((n) => n !== drop);
      return [`--allow-run=${names.join(",")}`];
    }
    return [flag];
  });
}

async function run(
  flags: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", ...flags, MAIN, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const REFUSED = /Requires [\w ]*access|NotCapable|not allowed to run/;

const MISSING = Deno.uid() !== 0 ? "root" : registryMissing() ??
  (["bwrap", "proot", "unshare", "podman", "mknod", "cp"].find((p) =>
    !onPath(p)
  ));

testNeeding(
  MISSING,
  "permissions: every flag and every allowed program is needed",
  async (t) => {
    const staged = await makeBusyboxStore();
    await using registry = await startRegistry();
    const image = await buildImage({
      layers: [{
        compression: "gzip",
        entries: [
          ...busyboxEntries(),
          { name: "dev/", type: "dir" },
          { name: "dev/null0", type: "char", devmajor: 1, devminor: 3 },
        ],
      }],
    });
    await pushImage(registry, "test/perm", "1", image);
    const ref = `${registry.host}/test/perm:1`;
    // Credentials are only looked up when a registry asks for them.
    await using secured = await startRegistry({
      tls: true,
      htpasswd: { user: "u", password: "p" },
    });
    await pushImage(secured, "test/perm", "1", image);
    const securedRef = `${secured.host}/test/perm:1`;
    const helpers = await Deno.makeTempDir({ prefix: "polythene-perm-" });
    try {
      // A credential helper that answers for any registry.
      await Deno.writeTextFile(
        `${helpers}/docker-credential-pass`,
        '#!/bin/sh\necho \'{"Username":"u","Secret":"p"}\'\n',
      );
      await Deno.chmod(`${helpers}/docker-credential-pass`, 0o755);
      await Deno.writeTextFile(
        `${helpers}/config.json`,
        JSON.stringify({ credsStore: "pass" }),
      );
      const exec = (backend: string) => [
        "exec",
        "-s",
        staged.store,
        "-i",
        backend,
        staged.uuid,
        "--",
        "true",
      ];
      const pull = (...extra: string[]) => [
        "pull",
        "-q",
        "-s",
        `${helpers}/store-${crypto.randomUUID()}`,
        ...extra,
        ref,
      ];
      const cases: [string, string[], Record<string, string>?][] = [
        ["--allow-read", exec("bubblewrap")],
        ["--allow-write", exec("bubblewrap")],
        ["--allow-env", exec("bubblewrap")],
        ["--allow-sys=gid,osRelease,statfs,uid", exec("bubblewrap")],
        ["--allow-net", pull()],
        ["bwrap", exec("bubblewrap")],
        ["sh", exec("bubblewrap")],
        ["proot", exec("proot")],
        ["unshare", exec("chroot")],
        ["cp", ["clone", "-s", staged.store, staged.uuid]],
        ["mknod", pull()],
        ["podman", pull("--puller", "podman", "--tls-verify=false")],
        [
          "docker-credential-pass",
          [...pull("--tls-verify=false").slice(0, -1), securedRef],
          {
            DOCKER_CONFIG: helpers,
            PATH: `${helpers}:${Deno.env.get("PATH")}`,
          },
        ],
      ];
      for (const [drop, args, env] of cases) {
        assert.notDeepEqual(without(drop), permissionFlags(), drop);
        await t.step(`without ${drop}: ${args[0]} is refused`, async () => {
          // Fresh probes each time: the probe is what spawns the backend.
          await Deno.remove(`${staged.store}/.polythene/probes.json`).catch(
            () => {},
          );
          const result = await run(without(drop), args, env);
          assert.notEqual(result.code, 0, result.stderr);
          assert.match(result.stderr, REFUSED, result.stderr);
        });
      }
      await t.step("with every flag, the same commands work", async () => {
        await Deno.remove(`${staged.store}/.polythene/probes.json`).catch(
          () => {},
        );
        for (const backend of ["bubblewrap", "proot", "chroot"]) {
          const result = await run(permissionFlags(), exec(backend));
          assert.equal(result.code, 0, result.stderr);
        }
        assert.equal((await run(permissionFlags(), pull())).code, 0);
        const pulled = await run(
          permissionFlags(),
          [...pull("--tls-verify=false").slice(0, -1), securedRef],
          {
            DOCKER_CONFIG: helpers,
            PATH: `${helpers}:${Deno.env.get("PATH")}`,
          },
        );
        assert.equal(pulled.code, 0, pulled.stderr);
      });
    } finally {
      await Deno.remove(helpers, { recursive: true });
      await staged.cleanup();
    }
  },
);
