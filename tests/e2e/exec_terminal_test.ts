/**
 * A command cannot push keystrokes into the caller's terminal with
 * `TIOCSTI`, on any backend: without a terminal it runs in a session of its
 * own (no controlling terminal, so `/dev/tty` cannot be opened), and on a
 * terminal it gets a pty of its own, relayed by `script`. The caller is a
 * `bash` on a pty of util-linux `script(1)` that runs polythene and then
 * `read`s: whatever the command injected would be read there.
 *
 * The injector is a static C program built with `gcc -static`, tried on
 * fds 0, 1, 2 and `/dev/tty`. The run happens in a jail (host read-only).
 *
 * @module
 */

import { shellQuote } from "../helpers/terminal.ts";
import assert from "node:assert/strict";
import { BACKEND_NAMES, type BackendName } from "../../src/backends/mod.ts";
import { cliArgv, hostProgram } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  onPath,
  testNeeding,
} from "../helpers/fixtures.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

const INJECTOR = `#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
static void inject(int fd, const char *name) {
  const char *text = "INJECTED\\n";
  int ok = 1;
  for (const char *c = text; *c; c++) {
    if (ioctl(fd, TIOCSTI, c) != 0) { ok = 0; break; }
  }
  fprintf(stderr, "tiocsti %s: %s\\n", name, ok ? "pushed" : "refused");
}
int main(void) {
  inject(0, "fd0");
  inject(1, "fd1");
  inject(2, "fd2");
  int tty = open("/dev/tty", O_RDWR);
  if (tty >= 0) inject(tty, "/dev/tty");
  else perror("tiocsti /dev/tty: cannot open");
  return 0;
}
`;

const MISSING = !canJail()
  ? "real root (jail)"
  : ["gcc", "script", "bash"].find((p) => !onPath(p));

/**
 * Runs `polythene exec` as the caller `bash` on a pty would, then `read`s
 * for a second; returns what the read got and everything shown.
 */
async function callerReads(
  dir: string,
  exec: string[],
  redirect: string,
  status = 0,
): Promise<{ got: string; shown: string }> {
  const polythene = [...jailPrefix([dir]), ...cliArgv(), ...exec]
    .map(shellQuote).join(" ");
  const command = `${polythene} ${redirect}; echo "rc=$?"; ` +
    `IFS= read -r -t 2 line; echo "got:[$line]"`;
  const denoDir = Deno.env.get("DENO_DIR");
  const child = new Deno.Command(hostProgram("script")!, {
    args: ["-qec", command, "/dev/null"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      SHELL: hostProgram("bash")!,
      TMPDIR: dir,
      ...(denoDir ? { DENO_DIR: denoDir } : {}),
    },
    // Kept open and silent: the caller types nothing.
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  const shown = new TextDecoder().decode(out.stdout).replaceAll("\r", "");
  const got = /got:\[(.*)\]/.exec(shown)?.[1];
  assert.notEqual(got, undefined, `the caller's read ran:\n${shown}`);
  assert.match(shown, new RegExp(`rc=${status}\\b`), shown);
  return { got: got!, shown };
}

for (const backend of BACKEND_NAMES as readonly BackendName[]) {
  testNeeding(
    MISSING ?? backendMissingAsRoot(backend),
    `terminal: a ${backend} command cannot inject input into the caller's terminal`,
    async (t) => {
      const staged = await makeBusyboxStore();
      const dir = staged.store.replace(/\/store$/, "");
      try {
        await Deno.writeTextFile(`${dir}/tiocsti.c`, INJECTOR);
        const gcc = await new Deno.Command("gcc", {
          args: [
            "-static",
            "-o",
            `${staged.rootfs}/tiocsti`,
            `${dir}/tiocsti.c`,
          ],
          stderr: "piped",
        }).output();
        assert.ok(gcc.success, new TextDecoder().decode(gcc.stderr));
        // proot binds /dev/tty only where the rootfs has a /dev.
        await Deno.mkdir(`${staged.rootfs}/dev`, { recursive: true });
        const exec = [
          "exec",
          "-s",
          staged.store,
          "-i",
          backend,
          staged.uuid,
          "--",
          "/tiocsti",
        ];
        await t.step("on a terminal", async () => {
          const { got, shown } = await callerReads(dir, exec, "");
          assert.equal(got, "", `nothing injected:\n${shown}`);
          // The command did reach a terminal: its own pty.
          assert.match(shown, /tiocsti fd0: pushed/, shown);
        });
        await t.step(
          "on a terminal, argv and the exit status pass through",
          async () => {
            const { shown } = await callerReads(
              dir,
              [
                ...exec.slice(0, -1),
                "sh",
                "-c",
                '[ -t 0 ] && [ -t 1 ] && printf "<%s>" "$@"; exit 7',
                "sh",
                "a b",
                "$HOME",
                "'\"",
              ],
              "",
              7,
            );
            assert.match(shown, /<a b><\$HOME><'">/, shown);
          },
        );
        await t.step("without a terminal", async () => {
          const { got, shown } = await callerReads(
            dir,
            exec,
            `</dev/null >${shellQuote(`${dir}/out`)} 2>&1`,
          );
          const out = await Deno.readTextFile(`${dir}/out`);
          assert.equal(got, "", `nothing injected:\n${shown}\n${out}`);
          assert.match(out, /tiocsti \/dev\/tty: cannot open/, out);
        });
      } finally {
        await staged.cleanup();
      }
    },
  );
}
