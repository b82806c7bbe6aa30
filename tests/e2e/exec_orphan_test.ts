/**
 * If polythene itself is SIGKILLed, the command does not outlive it: the
 * watcher (`signal_tree.ts`) kills the whole tree, under every backend, and
 * under bwrap also when the command has a pty of its own (polythene run by
 * `script(1)`, so that both its stdin and stdout are a terminal). The run's
 * files are in the store's state area, and the next `prune` sweeps them.
 *
 * The command prints `started` (the test waits for that line) and then
 * sleeps for TAG seconds, a number no other process has on its command line:
 * "nothing is left" means no live process holds TAG.
 *
 * @module
 */

import { shellQuote } from "../helpers/terminal.ts";
import { strict as assert } from "node:assert";
import { BACKEND_NAMES, type BackendName } from "../../src/backends/names.ts";
import { cliArgv, runPolythene } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  onPath,
  stepNeeding,
  testNeeding,
} from "../helpers/fixtures.ts";

function uniqueTag(): string {
  const [random] = crypto.getRandomValues(new Uint32Array(1));
  return String(8_000_000 + random! % 1_000_000);
}

/** Live (not zombie) processes with `tag` as a word of their command line. */
async function liveWith(tag: string): Promise<{ pid: number; cmd: string }[]> {
  const found = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const dir = `/proc/${entry.name}`;
      const cmd = (await Deno.readTextFile(`${dir}/cmdline`)).split("\0")
        .join(" ").trim();
      if (!cmd.split(/\s+/).includes(tag)) continue;
      const stat = await Deno.readTextFile(`${dir}/stat`);
      const state = stat.charAt(stat.lastIndexOf(")") + 2);
      if (state !== "Z" && state !== "X") {
        found.push({ pid: Number(entry.name), cmd });
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

async function killTagged(tag: string): Promise<void> {
  for (const { pid } of await liveWith(tag)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Polls /proc (bounded: 10 s) until no live process holds `tag`. */
async function assertTreeGone(tag: string): Promise<void> {
  let left = await liveWith(tag);
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await liveWith(tag);
  }
  assert.deepEqual(left.map((p) => `${p.pid} ${p.cmd}`), [], "left behind");
}

/** Reads `stream` until `text` has been seen; returns what was read. */
async function waitFor(
  stream: ReadableStream<Uint8Array>,
  text: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let seen = "";
  const reader = stream.getReader();
  try {
    while (!seen.includes(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return seen;
}

async function runDirs(store: string): Promise<string[]> {
  const names = [];
  try {
    for await (const e of Deno.readDir(`${store}/.polythene/run`)) {
      names.push(e.name);
    }
  } catch {
    // No run yet.
  }
  return names;
}

/**
 * Starts `polythene exec` (under `script` with `pty`), waits for the
 * command's `started`, SIGKILLs polythene, and checks that the tree is gone
 * and that `prune` leaves no run directory.
 */
async function killPolythene(backend: BackendName, pty: boolean) {
  const staged = await makeBusyboxStore();
  const tag = uniqueTag();
  const polythene = [
    ...cliArgv(),
    "exec",
    "--store",
    staged.store,
    "--isolation",
    backend,
    "--hosts",
    "host",
    staged.uuid,
    "--",
    "sh",
    "-c",
    'echo started; sleep "$0"',
    tag,
  ];
  const [program, ...args] = pty
    ? [
      "script",
      "--quiet",
      "--return",
      "--command",
      polythene.map(shellQuote).join(" "),
      "/dev/null",
    ]
    : polythene;
  const child = new Deno.Command(program!, {
    args,
    stdin: pty ? "piped" : "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const seen = await waitFor(child.stdout, "started");
    assert.ok(seen.includes("started"), `no "started" line: ${seen}`);
    assert.equal((await runDirs(staged.store)).length, 1, "one run dir");
    const cli = (await liveWith(tag)).find((p) => p.cmd.includes("main.ts"));
    assert.ok(cli !== undefined, "polythene's own process");
    Deno.kill(cli.pid, "SIGKILL");
    await assertTreeGone(tag);
    const pruned = await runPolythene([
      "prune",
      "--json",
      "--store",
      staged.store,
    ]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.equal(JSON.parse(pruned.stdout).runs, 1, pruned.stdout);
    assert.deepEqual(await runDirs(staged.store), [], "run dirs swept");
  } finally {
    await killTagged(tag);
    await child.stdout.cancel().catch(() => {});
    if (pty) await child.stdin.close().catch(() => {});
    await child.status;
    await staged.cleanup();
  }
}

for (const backend of BACKEND_NAMES) {
  testNeeding(
    backendMissingAsRoot(backend),
    `exec: ${backend}: a SIGKILLed polythene leaves no command and no run files`,
    async (t) => {
      await t.step("without a terminal", () => killPolythene(backend, false));
      const name = "with a pty of its own, under script(1)";
      if (onPath("script")) {
        await t.step(name, () => killPolythene(backend, true));
      } else await stepNeeding(t, "needs script (util-linux)", name);
    },
  );
}
