import { strict as assert } from "node:assert";
import {
  interleavedRounds,
  polythene,
  timedRun,
} from "../../scripts/_bench_common.ts";

Deno.test("interleavedRounds rotates the order each round and keeps only timed rounds", async () => {
  const order: string[] = [];
  const rounds: number[] = [];
  let tick = 0;
  const samples = await interleavedRounds([{ id: "a" }, { id: "b" }], {
    runs: 2,
    warmup: 1,
    measure: (c, round) => {
      order.push(`${round}${c.id}`);
      return Promise.resolve(++tick);
    },
    onRound: (round) => rounds.push(round),
  });
  assert.deepEqual(order, ["0a", "0b", "1b", "1a", "2a", "2b"]);
  assert.deepEqual(rounds, [0, 1, 2]);
  assert.deepEqual(samples.get("a"), [4, 5]);
  assert.deepEqual(samples.get("b"), [3, 6]);
});

Deno.test("timedRun returns the output and names a failing command with its stderr", async () => {
  const ok = await timedRun(["sh", "-c", "echo out; echo err >&2"], {
    env: { PATH: "/usr/bin:/bin" },
    stdin: "null",
  });
  assert.equal(ok.stdout, "out\n");
  assert.equal(ok.stderr, "err\n");
  await assert.rejects(
    timedRun(["sh", "-c", "echo broken >&2; exit 3"], { stdin: "null" }),
    (error: Error) =>
      error.message === "sh -c echo broken >&2; exit 3 failed: broken\n",
  );
});

Deno.test("timedRun clears the environment when one is given", async () => {
  const out = await timedRun(["/bin/sh", "-c", "echo ${HOME:-none}"], {
    env: {},
    stdin: "null",
  });
  assert.equal(out.stdout, "none\n");
});

Deno.test("polythene() runs main.ts with the compiled binary's permissions", () => {
  const argv = polythene("list", "--json");
  assert.equal(argv[0], Deno.execPath());
  assert.ok(argv.includes("--no-prompt"));
  assert.ok(argv.at(-3)!.endsWith("/main.ts"));
  assert.deepEqual(argv.slice(-2), ["list", "--json"]);
});
