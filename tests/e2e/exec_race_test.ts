/**
 * Two execs of one entry: the command of the first swaps a directory of the
 * rootfs for a symlink to a host directory (the sentinel) and back, in a
 * tight loop, while the second prepares its mount points there (a missing
 * working directory and bind targets under that directory) a few hundred
 * times. Each of its runs works or is refused with a clear error, and
 * nothing may ever be created in the sentinel: not by polythene's
 * own mount-point creation, not by the chroot script. The second run sees
 * only chroot's programs on its PATH, so a setup that fails because of the
 * swap cannot fall through to another backend (bubblewrap's own mount-point
 * creation still follows such a swap: see docs/design.md).
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
  echo "rc=$?"
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
      assert.deepEqual(other, [], errors.slice(-3000));
      // The race was real: some runs met it.
      assert.ok(codes.some((c) => c !== 0), "no run met the swap");
    } finally {
      await staged.cleanup();
    }
  },
);
