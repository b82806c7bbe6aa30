/**
 * Two execs of one entry: the command of the first swaps a directory of the
 * rootfs for a symlink to a host directory (the sentinel) and back, in a
 * tight loop, while the second prepares its mount points there (a missing
 * working directory and bind targets under that directory) a few hundred
 * times. Each of its runs works or is refused with a clear error, and
 * nothing may ever be created in the sentinel: not by polythene's
 * own mount-point creation, not by the chroot script. The second run sees
 * only chroot's programs on its PATH, so a setup that fails because of the
 * swap cannot fall through to another backend. bubblewrap's own creation of
 * bind destinations, as root, has a deterministic test of its own below.
 *
 * The hostile command runs as real root (chroot), so everything runs in a
 * jail where the host is read-only but for the test's temporary directory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chroot } from "../../src/backends/chroot.ts";
import { cliArgv, hostProgram } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  testNeeding,
} from "../helpers/fixtures.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

const ROUNDS = 200;

/**
 * Runs in the jail; the CLI's argv is `"$@"`. The attacker flips `/w`
 * between a directory and a symlink to `$SENTINEL` until `/stop` exists.
 */
const RACE = `"$@" exec -s "$STORE" -i chroot -t 900 "$UUID" -- sh -c '
flip() {
  while [ ! -e /stop ]; do
    rm -rf /w; mkdir /w; rm -rf /w; ln -s "$1" /w
  done
}
flip "$1" & flip "$1"; wait' sh "$SENTINEL" &
attacker=$!
sleep 1
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  PATH=$VICTIM_PATH "$@" exec -s "$STORE" -w /w/wd -b "$SRC:/w/b1" \\
    -b "$SRC:/w/b2/c" "$UUID" -- true 2>>"$ERRORS"
  rc=$?
  echo "rc=$rc" >>"$ERRORS"
  echo "rc=$rc"
  i=$((i + 1))
done
: > "$STORE/$UUID/stop"
wait "$attacker"
`;

testNeeding(
  canJail() ? backendMissingAsRoot("chroot") : "real root (jail)",
  "race: a chroot run's mount points never follow a link another run swaps in",
  async () => {
    const staged = await makeBusyboxStore();
    const dir = staged.store.replace(/\/store$/, "");
    const sentinel = `${dir}/sentinel`;
    try {
      await Deno.mkdir(sentinel);
      await Deno.mkdir(`${dir}/src`);
      // Only what chroot needs: no bwrap or proot to fall through to.
      await Deno.mkdir(`${dir}/bin`);
      for (const program of chroot.programs) {
        await Deno.symlink(hostProgram(program)!, `${dir}/bin/${program}`);
      }
      const argv = [
        ...jailPrefix([dir]),
        "sh",
        "-c",
        RACE,
        "race",
        ...cliArgv(),
      ];
      const denoDir = Deno.env.get("DENO_DIR");
      const out = await new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/root",
          ...(denoDir ? { DENO_DIR: denoDir } : {}),
          TMPDIR: dir,
          STORE: staged.store,
          UUID: staged.uuid,
          SENTINEL: sentinel,
          SRC: `${dir}/src`,
          VICTIM_PATH: `${dir}/bin`,
          ERRORS: `${dir}/victim.err`,
          ROUNDS: String(ROUNDS),
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${stdout}\n${stderr}`);
      const found = [...Deno.readDirSync(sentinel)].map((e) => e.name);
      assert.deepEqual(found, [], `created in the sentinel: ${found}`);
      const codes = [...stdout.matchAll(/rc=(\d+)/g)].map((m) => Number(m[1]));
      const errors = await Deno.readTextFile(`${dir}/victim.err`)
        .catch(() => "");
      assert.equal(codes.length, ROUNDS, stdout);
      // Each run either worked or was refused with one line: a mount point
      // that changed (2) or a chroot setup that met a swapped-in link (126).
      const other = codes.filter((c) => ![0, 2, 126].includes(c));
      assert.deepEqual(other, [], unexpectedRuns(errors));
      // The race was real: some runs met it.
      assert.ok(codes.some((c) => c !== 0), "no run met the swap");
    } finally {
      await staged.cleanup();
    }
  },
);

/**
 * bubblewrap's own set-up, as real root. bwrap creates a missing bind
 * destination inside its staging root, where the host is `/oldroot`,
 * following symlinks; a swap of a rootfs directory for a symlink to
 * `/oldroot/HOST_DIR` between polythene's preparation and bwrap's mount
 * would make bwrap create it on the host. A stand-in for the racing guest,
 * named as such: a `bwrap` first on PATH makes that swap at the worst
 * moment, just before it execs the real bwrap, so the test is
 * deterministic. The real bwrap then must not reach the host.
 */
testNeeding(
  canJail() ? backendMissingAsRoot("bubblewrap") : "real root (jail)",
  "race: bubblewrap's own set-up cannot create anything on the host",
  async () => {
    const staged = await makeBusyboxStore();
    const dir = staged.store.replace(/\/store$/, "");
    const sentinel = `${dir}/sentinel`;
    try {
      await Deno.mkdir(sentinel);
      await Deno.mkdir(`${dir}/src`);
      await Deno.mkdir(`${dir}/bin`);
      const bwrap = hostProgram("bwrap")!;
      const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
      // Only for the real run (the probe passes no status fd).
      await Deno.writeTextFile(
        `${dir}/bin/bwrap`,
        `#!/bin/sh
case " $* " in *" --json-status-fd "*)
  /bin/mv ${quote(`${staged.rootfs}/w`)} ${quote(`${staged.rootfs}/w.old`)}
  /bin/ln -s ${quote(`/oldroot${sentinel}`)} ${quote(`${staged.rootfs}/w`)}
esac
exec ${quote(bwrap)} "$@"
`,
      );
      await Deno.chmod(`${dir}/bin/bwrap`, 0o755);
      const argv = [
        ...jailPrefix([dir]),
        ...cliArgv(),
        "exec",
        "-s",
        staged.store,
        "-i",
        "bubblewrap",
        "--isolation-floor",
        "bubblewrap",
        "-b",
        `${dir}/src:/w/b1/c`,
        staged.uuid,
        "--",
        "true",
      ];
      const denoDir = Deno.env.get("DENO_DIR");
      const out = await new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        clearEnv: true,
        env: {
          PATH: `${dir}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
          HOME: Deno.env.get("HOME") ?? "/root",
          ...(denoDir ? { DENO_DIR: denoDir } : {}),
          TMPDIR: dir,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      // The swap happened: polythene made /w/b1/c, the stand-in moved it.
      assert.ok(
        (await Deno.lstat(`${staged.rootfs}/w.old/b1/c`)).isDirectory,
        stderr,
      );
      const found = [...Deno.readDirSync(sentinel)].map((e) => e.name);
      assert.deepEqual(
        found,
        [],
        `created in the sentinel: ${found}\n${stderr}`,
      );
      // The set-up failed, and nothing else ran instead.
      assert.equal(out.code, 126, stderr);
      assert.match(stderr, /bubblewrap failed while setting up the sandbox/);
    } finally {
      await staged.cleanup();
    }
  },
);

/** The stderr of each run that ended with a code other than 0, 2 or 126. */
function unexpectedRuns(errors: string): string {
  const runs = errors.split(/^(rc=\d+)\n/m);
  const shown: string[] = [];
  for (let i = 1; i < runs.length; i += 2) {
    if (!["rc=0", "rc=2", "rc=126"].includes(runs[i]!)) {
      shown.push(`${runs[i - 1]!.trim()}\n(${runs[i]})`);
    }
  }
  return shown.join("\n");
}
