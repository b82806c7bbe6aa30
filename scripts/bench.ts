/**
 * `deno task bench`: how much slower `polythene exec UUID -- /bin/true` is
 * than what it cannot avoid, namely starting Deno and starting the backend;
 * then how `polythene pull` compares with the other ways to stage an image
 * and with `curl | gzip -d | tar -x` (see `_bench_pull.ts`).
 *
 * ```sh
 * deno run -A scripts/bench.ts [--only exec|pull|store|arch|push|clone|ephemeral|extract] [--runs N] [--warmup N]
 *                              [--pull-runs N] [--pull-warmup N]
 * ```
 *
 * `--only` runs one part; `--runs` and `--warmup` are the exec part's
 * rounds, `--pull-runs` (default 5) and `--pull-warmup` (default 1) the pull
 * part's. The pull part needs the Debian test image (`debian_image.ts`),
 * which is built on first use, as root. The arch part (`_bench_arch.ts`,
 * `--pull-runs` rounds) times exec under qemu-user against native.
 * The ephemeral part (`_bench_ephemeral.ts`, `--pull-runs` rounds) times
 * `exec --ephemeral` on the overlay and on the copy against plain exec.
 * The extract part (`_bench_extract.ts`, `--pull-runs` rounds, only with
 * `--only extract`) times polythene's layer extraction against `tar -x`,
 * into a plain directory and into a new one under `chattr +T`.
 *
 * In one run of the exec part, on a busybox rootfs in a temporary store, it times:
 *
 * - an empty `deno run` script, with polythene's own permission flags;
 * - `deno run main.ts --version`, and a script that only loads every module
 *   `exec` loads (to tell module loading apart from work);
 * - for each backend: the raw invocation that polythene itself builds (from
 *   the backend module, with the `sh` wrapper that opens the status fd where
 *   polythene uses one, and once more without it); a `deno run` script that
 *   does nothing but spawn that invocation (the floor for any Deno CLI); and
 *   `deno run --no-prompt <permissionFlags()> main.ts exec --store S
 *   --isolation B UUID -- /bin/true`, exactly as the `polythene` task runs it.
 *
 * The probe cache is warmed first, and a `--verbose` run checks that a warm
 * `exec` starts no probe process. Every candidate runs once per round, the
 * order rotating from round to round to cancel drift; after the warm-up
 * rounds, `--runs` rounds are timed. The report, a markdown document on
 * stdout, gives each candidate's median and p90 and, per backend, the median
 * over rounds of `polythene exec / (empty deno run + raw backend)` (the goal
 * is at most 1.3), every backend's exec against an empty `deno run` plus
 * each raw backend (raw bubblewrap and raw proot side by side,
 * `_bench_startup.ts`), and where the time goes. Progress goes to stderr.
 *
 * A backend whose programs are not on PATH, or that needs real root when
 * this is not, is skipped with a note in the report. The temporary store is
 * removed at the end.
 *
 * Permissions: all (`-A`): it spawns `deno` and the backends, and builds a
 * store under the temp dir.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type Backend,
  programsNeeded,
  type RunSpec,
} from "../src/backends/backend.ts";
import { detectHost, type HostFacts } from "../src/backends/host.ts";
import { BACKENDS } from "../src/backends/mod.ts";
import { nulSeparated, withStatusFd } from "../src/backends/status.ts";
import { commandEnv } from "../src/exec/options.ts";
import { permissionFlags } from "../src/permissions.ts";
import { which } from "../src/process/which.ts";
import {
  formatMs,
  formatRatio,
  markdownTable,
  median,
  parseCount,
  percentile,
  readProbeLog,
  rotate,
  roundDifferences,
  roundRatios,
  summarize,
  withoutStatusFdFlag,
} from "./_bench_stats.ts";
import { makeBusyboxRootfs } from "./busybox_rootfs.ts";
import { benchPull } from "./_bench_pull.ts";
import { benchStore } from "./_bench_store.ts";
import { benchArch } from "./_bench_arch.ts";
import { benchPush } from "./_bench_push.ts";
import { benchClone } from "./_bench_clone.ts";
import { benchExtract } from "./_bench_extract.ts";
import { benchEphemeral } from "./_bench_ephemeral.ts";
import { rawComparison } from "./_bench_startup.ts";

const USAGE =
  "Usage: deno run -A scripts/bench.ts [--only exec|pull|store|arch|push|clone|ephemeral|extract] " +
  "[--runs N] [--warmup N] [--pull-runs N] [--pull-warmup N]";
const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const MAIN_TS = `${ROOT}main.ts`;
const GOAL = 1.3;
const COMMAND = ["/bin/true"];

/** One thing to time. */
interface Candidate {
  /** Key into the samples. */
  id: string;
  /** What the report calls it. */
  label: string;
  /** Host argv; the first element is the program. */
  argv: string[];
  /** The whole environment. */
  env: Record<string, string>;
}

/** A backend that can run here, with what the report needs to know. */
interface Bench {
  backend: Backend;
  /** The raw invocation's candidate id, as polythene spawns it. */
  raw: string;
  /** Without the status-fd wrapper, when polythene uses one. */
  bare?: string;
  /** A `deno run` script that only spawns the raw invocation. */
  floor: string;
  /** The `polythene exec` candidate id. */
  polythene: string;
  /** `polythene exec` with env, binds and a workdir (issue 5's options). */
  options: string;
}

interface Options {
  runs: number;
  warmup: number;
  /** Which parts to run. */
  parts: (
    | "exec"
    | "pull"
    | "store"
    | "arch"
    | "push"
    | "clone"
    | "ephemeral"
    | "extract"
  )[];
  pullRuns: number;
  pullWarmup: number;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "30" },
      warmup: { type: "string", default: "3" },
      only: { type: "string" },
      "pull-runs": { type: "string", default: "5" },
      "pull-warmup": { type: "string", default: "1" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const only = values.only;
  if (
    only !== undefined && only !== "exec" && only !== "pull" &&
    only !== "store" && only !== "arch" && only !== "push" &&
    only !== "clone" && only !== "ephemeral" && only !== "extract"
  ) {
    throw new RangeError(
      `Invalid --only "${only}": expected exec, pull, store, arch, push, clone, ephemeral or extract`,
    );
  }
  return {
    runs: parseCount(values.runs, "--runs", 1),
    warmup: parseCount(values.warmup, "--warmup", 0),
    parts: only === undefined
      ? ["exec", "pull", "store", "arch", "push", "clone", "ephemeral"]
      : [only],
    pullRuns: parseCount(values["pull-runs"], "--pull-runs", 1),
    pullWarmup: parseCount(values["pull-warmup"], "--pull-warmup", 0),
  };
}

/**
 * The environment of every `deno run`: only what Deno needs to find its
 * cache and polythene needs to find the backends. No `TERM` and no
 * `POLYTHENE_*`, so nothing from the caller's shell changes what is timed.
 */
function denoEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function denoRun(args: string[]): string[] {
  return [Deno.execPath(), "run", "--no-prompt", ...permissionFlags(), ...args];
}

/**
 * Two variables, a read-write bind, a read-only bind where the backend can
 * enforce one (proot cannot), and a working directory.
 */
function optionFlags(backend: string, tmp: string): string[] {
  const flags = [
    "-e",
    "A=1",
    "-e",
    "B=2",
    "-b",
    `${tmp}:/mnt/rw`,
    "-w",
    "/tmp",
  ];
  if (backend !== "proot") flags.push("-b", `${tmp}:/mnt/ro:ro`);
  return flags;
}

function polytheneExec(
  store: string,
  backend: string,
  uuid: string,
  extra: readonly string[] = [],
): string[] {
  return denoRun([
    MAIN_TS,
    "exec",
    "--store",
    store,
    "--isolation",
    backend,
    ...extra,
    uuid,
    "--",
    ...COMMAND,
  ]);
}

/**
 * A script that spawns `argv` the way polythene does (explicit env, stdio
 * inherited) and exits with its code: the least a Deno CLI can do to run
 * the backend.
 */
function spawnOnlyScript(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): string {
  return `const argv = ${JSON.stringify(argv)};
const out = await new Deno.Command(argv[0], {
  args: argv.slice(1),
  env: ${JSON.stringify(env)},
  clearEnv: true,
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(out.code);
`;
}

/** Runs `argv` once, output captured; for set-up steps, not for timing. */
async function capture(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Times one run of `candidate` in milliseconds.
 *
 * @throws {Error} when it exits non-zero, with its stderr from a second run.
 */
async function timeOnce(candidate: Candidate): Promise<number> {
  const command = new Deno.Command(candidate.argv[0]!, {
    args: candidate.argv.slice(1),
    env: candidate.env,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const start = performance.now();
  const out = await command.output();
  const elapsed = performance.now() - start;
  if (!out.success) {
    const again = await capture(candidate.argv, candidate.env);
    throw new Error(
      `"${candidate.label}" exited ${out.code}: ${
        again.stderr.trim() || "no message"
      }`,
    );
  }
  return elapsed;
}

/** Why `backend` cannot run here, or its programs' host paths. */
function locate(
  backend: Backend,
  host: HostFacts,
  hostPath: string,
): Record<string, string> | string {
  if (backend.needsRoot && !host.realRoot) {
    return "needs real root (uid 0 in the initial user namespace)";
  }
  const programs: Record<string, string> = {};
  for (const name of programsNeeded(backend, host)) {
    const found = which(name, hostPath);
    if (found === undefined) return `"${name}" not found on PATH`;
    programs[name] = found.path;
  }
  return programs;
}

/** Where the bench runs: shared by every backend. */
interface Setting {
  host: HostFacts;
  hostPath: string;
  /** Environment of every `deno run`. */
  env: Record<string, string>;
  /** The temporary directory, removed at the end. */
  tmp: string;
  store: string;
  uuid: string;
}

/**
 * Warms the probe cache of `backend`, checks that a warm `exec` starts no
 * probe, and builds its candidates; or says why it is skipped.
 */
async function prepareBackend(
  backend: Backend,
  setting: Setting,
): Promise<{ note: string; bench?: Bench; candidates: Candidate[] }> {
  const { host, env, tmp, store, uuid } = setting;
  const name = backend.name;
  const programs = locate(backend, host, setting.hostPath);
  if (typeof programs === "string") {
    return { note: `skipped: ${programs}`, candidates: [] };
  }
  progress(`${name}: warming the probe cache`);
  const exec = polytheneExec(store, name, uuid);
  const first = await capture(exec, env);
  if (first.code !== 0) {
    const why = first.stderr.trim().split("\n").at(-1) ?? "";
    return {
      note: `skipped: polythene exec exited ${first.code}: ${why}`,
      candidates: [],
    };
  }
  const verbose = await capture(
    polytheneExec(store, name, uuid, ["--verbose"]),
    env,
  );
  const log = readProbeLog(verbose.stderr);
  const noProbe = verbose.code === 0 && log.cached && !log.probed;
  const note = `warm exec runs no probe processes: ${noProbe ? "yes" : "NO"} ` +
    `(\`probe cached\` ${log.cached ? "present" : "absent"}, ` +
    `\`probing:\` ${log.probed ? "present" : "absent"})`;

  const spec: RunSpec = {
    rootfs: `${store}/${uuid}`,
    argv: COMMAND,
    env: commandEnv({ uid: 0, fileEnv: [], cliEnv: [] }),
    cwd: "/",
    terminal: false,
  };
  const invocation = backend.invocation(spec, host, programs);
  const bench: Bench = {
    backend,
    raw: `${name}:raw`,
    floor: `${name}:floor`,
    polythene: `${name}:polythene`,
    options: `${name}:options`,
  };
  const candidates: Candidate[] = [];
  let argsFile = "";
  if (invocation.fdArgs !== undefined) {
    argsFile = `${tmp}/args_${name}`;
    await Deno.writeTextFile(argsFile, nulSeparated(invocation.fdArgs));
  }
  const rawArgv = invocation.statusFd
    ? withStatusFd(programs.sh!, `${tmp}/status`, invocation.argv, argsFile)
    : invocation.argv;
  candidates.push({
    id: bench.raw,
    label: invocation.statusFd
      ? `${name}: raw, with the status-fd sh wrapper`
      : `${name}: raw`,
    argv: rawArgv,
    env: invocation.env,
  });
  if (invocation.statusFd) {
    bench.bare = `${name}:bare`;
    candidates.push({
      id: bench.bare,
      label: `${name}: raw, without the wrapper`,
      argv: withoutStatusFdFlag(invocation.argv),
      env: invocation.env,
    });
  }
  const floor = `${tmp}/spawn_${name}.ts`;
  await Deno.writeTextFile(floor, spawnOnlyScript(rawArgv, invocation.env));
  candidates.push({
    id: bench.floor,
    label: `${name}: deno run, spawn the raw invocation only`,
    argv: denoRun([floor]),
    env,
  });
  candidates.push({
    id: bench.polythene,
    label: `${name}: polythene exec`,
    argv: exec,
    env,
  });
  candidates.push({
    id: bench.options,
    label: `${name}: polythene exec with -e, -b and -w`,
    argv: polytheneExec(store, name, uuid, optionFlags(name, tmp)),
    env,
  });
  return { note, bench, candidates };
}

async function bench(options: Options): Promise<string> {
  const host = detectHost();
  const hostPath = Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const env = denoEnv();
  const tmp = await Deno.makeTempDir({ prefix: "polythene-bench-" });
  try {
    const store = `${tmp}/store`;
    progress(`building a busybox rootfs under ${store}`);
    const uuid = await makeBusyboxRootfs(store);
    const empty = `${tmp}/empty.ts`;
    await Deno.writeTextFile(empty, "");
    const load = `${tmp}/load_exec_modules.ts`;
    await Deno.writeTextFile(
      load,
      `import "${new URL("../main.ts", import.meta.url)}";\n` +
        `import "${new URL("../src/cli/exec.ts", import.meta.url)}";\n` +
        // exec loads its backend's module on its own, as exec does
        // (`backend_modules.ts`): bubblewrap, the first in the order.
        `await import(${
          JSON.stringify(
            new URL("../src/backends/", import.meta.url).href,
          )
        } + ["bubblewrap.ts"][0]);\n`,
    );

    const candidates: Candidate[] = [
      { id: "empty", label: "deno run empty.ts", argv: denoRun([empty]), env },
      {
        id: "version",
        label: "deno run main.ts --version",
        argv: denoRun([MAIN_TS, "--version"]),
        env,
      },
      {
        id: "load",
        label:
          "deno run: load every module exec on bubblewrap loads, run nothing",
        argv: denoRun([load]),
        env,
      },
    ];
    const benches: Bench[] = [];
    const notes: string[] = [];
    for (const backend of BACKENDS) {
      const prepared = await prepareBackend(backend, {
        host,
        hostPath,
        env,
        tmp,
        store,
        uuid,
      });
      notes.push(`- ${backend.name}: ${prepared.note}`);
      if (prepared.bench === undefined) continue;
      candidates.push(...prepared.candidates);
      benches.push(prepared.bench);
    }

    for (let round = 0; round < options.warmup; round++) {
      progress(`warm-up round ${round + 1}/${options.warmup}`);
      for (const c of rotate(candidates, round)) await timeOnce(c);
    }
    const samples = new Map<string, number[]>(
      candidates.map((c) => [c.id, []]),
    );
    for (let round = 0; round < options.runs; round++) {
      if (round % 5 === 0) progress(`round ${round + 1}/${options.runs}`);
      for (const c of rotate(candidates, round)) {
        samples.get(c.id)!.push(await timeOnce(c));
      }
    }
    return report(options, candidates, benches, samples, notes, host);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function report(
  options: Options,
  candidates: readonly Candidate[],
  benches: readonly Bench[],
  samples: ReadonlyMap<string, number[]>,
  notes: readonly string[],
  host: HostFacts,
): string {
  const of = (id: string) => samples.get(id)!;
  const empty = of("empty");
  /** Per-round median of `a - (b + ...)`. */
  const gap = (a: number[], ...b: number[][]) =>
    formatMs(median(roundDifferences(a, b)));

  const timings = markdownTable(
    ["candidate", "median ms", "p90 ms"],
    candidates.map((c) => {
      const s = summarize(of(c.id));
      return [c.label, formatMs(s.median), formatMs(s.p90)];
    }),
    ["left", "right", "right"],
  );

  const ratios = markdownTable(
    [
      "backend",
      "polythene ms",
      "empty deno + raw ms",
      "ratio median",
      "ratio p90",
      `goal <= ${GOAL}`,
      "ratio, raw without wrapper",
      "ratio of the spawn-only script",
      "ratio with -e, -b, -w",
    ],
    benches.map((b) => {
      const p = of(b.polythene);
      const raw = of(b.raw);
      const ratio = roundRatios(p, [empty, raw]);
      return [
        b.backend.name,
        formatMs(median(p)),
        formatMs(median(empty.map((e, i) => e + raw[i]!))),
        formatRatio(median(ratio)),
        formatRatio(percentile(ratio, 90)),
        median(ratio) <= GOAL ? "met" : "NOT met",
        b.bare === undefined
          ? "-"
          : formatRatio(median(roundRatios(p, [empty, of(b.bare)]))),
        formatRatio(median(roundRatios(of(b.floor), [empty, raw]))),
        formatRatio(median(roundRatios(of(b.options), [empty, raw]))),
      ];
    }),
    [
      "left",
      "right",
      "right",
      "right",
      "right",
      "left",
      "right",
      "right",
      "right",
    ],
  );

  const breakdown = markdownTable(
    [
      "backend",
      "empty deno run",
      "raw backend",
      "Deno's first spawn",
      "polythene's modules and work",
      "polythene exec",
    ],
    benches.map((b) => {
      const p = of(b.polythene);
      const raw = of(b.raw);
      const floor = of(b.floor);
      return [
        b.backend.name,
        formatMs(median(empty)),
        formatMs(median(raw)),
        gap(floor, empty, raw),
        gap(p, floor),
        formatMs(median(p)),
      ];
    }),
    ["left", "right", "right", "right", "right", "right"],
  );

  const againstRaw = rawComparison(
    benches.map((b) => ({
      name: b.backend.name,
      raw: b.raw,
      polythene: b.polythene,
    })),
    samples,
    "empty",
    GOAL,
  );

  const modules = markdownTable(
    ["deno run", "median ms", "minus empty, ms"],
    ["empty", "version", "load"].map((id) => [
      candidates.find((c) => c.id === id)!.label,
      formatMs(median(of(id))),
      gap(of(id), empty),
    ]),
    ["left", "right", "right"],
  );

  return [
    "# polythene exec overhead",
    "",
    `${options.runs} timed rounds after ${options.warmup} warm-up rounds; ` +
    "each round runs every candidate once, in an order that rotates from " +
    "round to round. Command: `/bin/true` in a busybox rootfs, warm probe " +
    `cache. deno ${Deno.version.deno}, kernel ${host.kernel}, uid ` +
    `${host.uid} (real root: ${host.realRoot}).`,
    "",
    ...notes,
    "",
    "## Ratio",
    "",
    "polythene exec / (empty deno run + raw backend), taken per round, then " +
    "the median and p90 over rounds. The raw backend is the invocation " +
    "polythene spawns, status-fd wrapper included. The last two columns " +
    "use the raw backend without the wrapper, and put in polythene's place " +
    "a `deno run` script that only spawns the raw invocation: the best a " +
    "Deno CLI can score.",
    "",
    ratios,
    "",
    "## Where the time goes",
    "",
    "Milliseconds, per-round medians. Deno's first spawn is a `deno run` " +
    "script that only spawns the raw invocation, minus the empty script " +
    "and the raw backend; polythene's share is polythene exec minus that " +
    "script.",
    "",
    breakdown,
    "",
    "## Against each raw backend",
    "",
    "polythene exec on each backend / (empty deno run + each raw " +
    "backend), per-round ratios, medians (`_bench_startup.ts`).",
    "",
    againstRaw,
    "",
    "## Module loading",
    "",
    modules,
    "",
    "## All timings",
    "",
    timings,
    "",
  ].join("\n");
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

if (import.meta.main) {
  let options: Options | undefined;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(
      `bench: ${error instanceof Error ? error.message : error}\n${USAGE}`,
    );
    Deno.exit(2);
  }
  if (options === undefined) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    if (options.parts.includes("exec")) console.log(await bench(options));
    if (options.parts.includes("pull")) {
      console.log(
        await benchPull({
          runs: options.pullRuns,
          warmup: options.pullWarmup,
          polythene: (args) => denoRun([MAIN_TS, ...args]),
          denoRun,
          env: denoEnv(),
          progress,
        }),
      );
    }
    if (options.parts.includes("store")) {
      console.log(await benchStore({ runs: options.pullRuns }));
    }
    if (options.parts.includes("arch")) {
      console.log(await benchArch({ runs: options.pullRuns, progress }));
    }
    if (options.parts.includes("push")) {
      console.log(await benchPush({ runs: options.pullRuns, progress }));
    }
    if (options.parts.includes("clone")) {
      console.log(
        await benchClone({
          runs: options.pullRuns,
          polythene: (args) => denoRun([MAIN_TS, ...args]),
          env: denoEnv(),
          progress,
        }),
      );
    }
    if (options.parts.includes("extract")) {
      console.log(
        await benchExtract({
          runs: options.pullRuns,
          env: denoEnv(),
          progress,
        }),
      );
    }
    if (options.parts.includes("ephemeral")) {
      console.log(
        await benchEphemeral({
          runs: options.pullRuns,
          warmup: options.pullWarmup,
          polythene: (args) => denoRun([MAIN_TS, ...args]),
          env: denoEnv(),
          progress,
        }),
      );
    }
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
