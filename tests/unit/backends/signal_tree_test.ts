import { assertEquals } from "../../helpers/assert.ts";
import {
  signalTree,
  watcher,
  WATCHER_SCRIPT,
} from "../../../src/backends/signal_tree.ts";

Deno.test("watcher passes the pid and the reaper as positional data", () => {
  const reaper = signalTree("/bin/sh", "tracees", 42, "SIGKILL");
  const w = watcher("/bin/sh", 42, reaper);
  assertEquals(w.argv.slice(0, 6), [
    "/bin/sh",
    "-c",
    WATCHER_SCRIPT,
    "polythene-watcher",
    "42",
    "",
  ]);
  assertEquals(w.argv.slice(6), reaper.argv);
  assertEquals(watcher("/bin/sh", 7, reaper, true).argv[5], "child");
});

async function runWatcher(input: string): Promise<string> {
  // The "reaper" records that it ran; pid 0 is never killed by this test:
  // `kill -s KILL 0` would hit the test's own group, so use "child" mode.
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command("/bin/sh", {
      args: [
        "-c",
        WATCHER_SCRIPT,
        "polythene-watcher",
        "0",
        "child",
        "/bin/sh",
        "-c",
        'echo reaped > "$0"',
        `${dir}/mark`,
      ],
      stdin: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    if (input !== "") await writer.write(new TextEncoder().encode(input));
    await writer.close();
    await child.status;
    return await Deno.readTextFile(`${dir}/mark`).catch(() => "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the watcher kills nothing after done", async () => {
  assertEquals(await runWatcher("done\n"), "");
});

Deno.test("the watcher reaps at end of file without done", async () => {
  assertEquals(await runWatcher(""), "reaped\n");
  assertEquals(await runWatcher("garbage\n"), "reaped\n");
});
