/**
 * The permission list is minimal: remove any one flag, or any one program
 * from `--allow-run`, and some documented command fails with Deno's refusal
 * (`--no-prompt` turns a missing permission into an error). The rest of the
 * e2e suite shows the list is sufficient.
 *
 * @module
 */

import { shellQuote } from "../helpers/terminal.ts";
import assert from "node:assert/strict";
import {
  allowedPrograms,
  CREDENTIAL_HELPERS,
  permissionFlags,
} from "../../src/permissions.ts";
import { makeBusyboxStore, onPath, testNeeding } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  arm64Busybox,
  arm64BusyboxImage,
  arm64BusyboxMissing,
} from "../../scripts/busybox_arm64.ts";
import { arm64KernelRuns } from "../helpers/emulated_store.ts";
import { busyboxEntries } from "../helpers/pull_checks.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * The flags with `drop` taken out: a whole flag, one `--allow-run` name, or
 * one `--allow-sys` name (`sys:uid`).
 */
function without(drop: string): string[] {
  return permissionFlags().flatMap((flag) => {
    if (flag === drop) return [];
    for (
      const [prefix, list] of [["--allow-run=", ""], ["--allow-sys=", "sys:"]]
    ) {
      if (!flag.startsWith(prefix!)) continue;
      const names = flag.slice(prefix!.length).split(",")
        .filter((n) => `${list}${n}` !== drop);
      return [`${prefix}${names.join(",")}`];
    }
    return [flag];
  });
}

async function run(
  flags: string[],
  args: string[],
  env: Record<string, string> = {},
  terminal = false,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const argv = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...flags,
    MAIN,
    ...args,
  ];
  // On a terminal: a pty of util-linux `script(1)`, where polythene's stderr
  // shows on script's stdout. The words are the test's own, quoted.
  const [program, ...rest] = terminal
    ? ["script", "-qec", argv.map(shellQuote).join(" "), "/dev/null"]
    : argv;
  const out = await new Deno.Command(program!, {
    args: rest,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr) +
      (terminal ? decoder.decode(out.stdout) : ""),
  };
}

/** Deno's refusal, as Deno words it or as polythene reports it. */
const REFUSED =
  /Requires [\w ]*access|NotCapable|not allowed to run|may start only the programs it found on PATH/;

const MISSING = Deno.uid() !== 0 ? "root" : registryMissing() ??
  (["bwrap", "proot", "setpriv", "unshare", "podman", "mknod", "cp", "script"]
    .find((p) => !onPath(p))) ??
  await arm64BusyboxMissing();

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
    await pushImage(
      registry,
      "test/perm-arm64",
      "1",
      await arm64BusyboxImage(await arm64Busybox()),
    );
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
      /** A DOCKER_CONFIG whose credsStore is `helper`, which answers u/p. */
      const helperEnv = async (helper: string) => {
        const dir = `${helpers}/${helper}`;
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(
          `${dir}/${helper}`,
          '#!/bin/sh\necho \'{"Username":"u","Secret":"p"}\'\n',
        );
        await Deno.chmod(`${dir}/${helper}`, 0o755);
        const store = helper.slice("docker-credential-".length);
        await Deno.writeTextFile(
          `${dir}/config.json`,
          JSON.stringify({ credsStore: store }),
        );
        return { DOCKER_CONFIG: dir, PATH: `${dir}:${Deno.env.get("PATH")}` };
      };
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
      const securedPull = () => [
        ...pull("--tls-verify=false").slice(0, -1),
        securedRef,
      ];
      /**
       * What is dropped, the command, its env, whether on a terminal, and
       * whether the refusal is only logged (a best-effort step such as
       * `chattr +T`: the command still works, and `--verbose` says why the
       * step was skipped).
       */
      type Case = [
        string,
        string[],
        Record<string, string>?,
        boolean?,
        "logged"?,
      ];
      /** Each program polythene may start, and a command that starts it. */
      const programCases: Record<string, () => Promise<Case>> = {
        bwrap: () => Promise.resolve(["bwrap", exec("bubblewrap")]),
        sh: () => Promise.resolve(["sh", exec("bubblewrap")]),
        proot: () => Promise.resolve(["proot", exec("proot")]),
        setpriv: () => Promise.resolve(["setpriv", exec("proot")]),
        // The compat filter's loader in front of proot (proot_compat.ts).
        perl: () => Promise.resolve(["perl", exec("proot")]),
        // A command on a terminal gets its own pty from `script`.
        script: () => Promise.resolve(["script", exec("bubblewrap"), {}, true]),
        unshare: () => Promise.resolve(["unshare", exec("chroot")]),
        cp: () =>
          Promise.resolve(["cp", ["clone", "-s", staged.store, staged.uuid]]),
        mknod: () => Promise.resolve(["mknod", pull()]),
        // +T on the staging root (spread.ts): best effort, so logged.
        chattr: () =>
          Promise.resolve([
            "chattr",
            pull("--verbose"),
            {},
            false,
            "logged",
          ]),
        podman: () =>
          Promise.resolve([
            "podman",
            pull("--puller", "podman", "--tls-verify=false"),
          ]),
        ...Object.fromEntries(
          CREDENTIAL_HELPERS.map((helper) => [
            helper,
            async (): Promise<Case> => [
              helper,
              securedPull(),
              await helperEnv(helper),
            ],
          ]),
        ),
      };
      await t.step("every allowed program has a case", () => {
        assert.deepEqual(Object.keys(programCases).sort(), allowedPrograms());
      });
      const cases: Case[] = [
        ["--allow-read", exec("bubblewrap")],
        ["--allow-write", exec("bubblewrap")],
        ["--allow-env", exec("bubblewrap")],
        ["--allow-net", pull()],
        ["sys:uid", exec("bubblewrap")],
        ["sys:osRelease", exec("bubblewrap")],
        // pull's free-space check (node:fs statfs).
        ["sys:statfs", pull()],
      ];
      for (const name of allowedPrograms()) {
        cases.push(await programCases[name]!());
      }
      for (const [drop, args, env, terminal, logged] of cases) {
        assert.notDeepEqual(without(drop), permissionFlags(), drop);
        await t.step(`without ${drop}: ${args[0]} is refused`, async () => {
          // Fresh probes each time: the probe is what spawns the backend.
          await Deno.remove(`${staged.store}/.polythene/probes.json`).catch(
            () => {},
          );
          const result = await run(without(drop), args, env, terminal);
          if (logged) assert.equal(result.code, 0, result.stderr);
          else assert.notEqual(result.code, 0, result.stderr);
          assert.match(result.stderr, REFUSED, result.stderr);
        });
      }
      await t.step(
        "with every flag, every one of those commands works",
        async () => {
          for (const [drop, args, env, terminal] of cases) {
            await Deno.remove(`${staged.store}/.polythene/probes.json`).catch(
              () => {},
            );
            const result = await run(permissionFlags(), args, env, terminal);
            assert.equal(
              result.code,
              0,
              `${drop}: ${args.join(" ")}\n${result.stderr}`,
            );
          }
        },
      );
      // Emulation needs nothing more: proot starts qemu itself, and the
      // binfmt_misc entry is read by the `sh` already on the list.
      await t.step(
        "with every flag, an arm64 image runs under qemu",
        async () => {
          const store = `${helpers}/store-arm64`;
          const pulled = await run(permissionFlags(), [
            "pull",
            "-q",
            "-s",
            store,
            "--platform",
            "linux/arm64",
            `${registry.host}/test/perm-arm64:1`,
          ]);
          assert.equal(pulled.code, 0, pulled.stderr);
          const uuid = pulled.stdout.trim();
          const ran = await run(permissionFlags(), [
            "exec",
            "-s",
            store,
            "-i",
            "proot",
            uuid,
            "--",
            "uname",
            "-m",
          ]);
          assert.equal(ran.code, 0, ran.stderr);
          assert.equal(ran.stdout, "aarch64\n");
          const noSh = await run(without("sh"), [
            "exec",
            "-s",
            store,
            "-i",
            "proot",
            uuid,
            "--",
            "uname",
            "-m",
          ]);
          assert.notEqual(noSh.code, 0);
          assert.match(noSh.stderr, REFUSED, noSh.stderr);
          // bubblewrap over a private binfmt_misc instance (where the host
          // has no entry, kernel >= 6.7): `sh` and `unshare`, both already
          // on the list for the backends.
          if (!await arm64KernelRuns()) return;
          const pinned = [
            "-i",
            "bubblewrap",
            "--isolation-floor",
            "bubblewrap",
          ];
          const bwrap = await run(permissionFlags(), [
            "exec",
            "-s",
            store,
            ...pinned,
            uuid,
            "--",
            "uname",
            "-m",
          ]);
          assert.equal(bwrap.code, 0, bwrap.stderr);
          assert.equal(bwrap.stdout, "aarch64\n");
        },
      );
    } finally {
      await Deno.remove(helpers, { recursive: true });
      await staged.cleanup();
    }
  },
);
