/**
 * The emulation part of `deno task bench` (`--only arch`): `polythene exec
 * -- true` and a small CPU-bound command (a shell loop of 20,000 additions)
 * under proot and under bubblewrap, natively (the host's busybox) and under
 * qemu-user (Debian's busybox-static:arm64, `busybox_arm64.ts`: proot with
 * `-q qemu-aarch64-static`; bubblewrap over the kernel's binfmt_misc, the
 * host's entry or the private instance exec makes, `binfmt.ts`). Both
 * entries hold the same busybox version, so the difference is emulation.
 *
 * Every candidate runs once per round, the order rotating from round to
 * round; after one warm-up round, `runs` rounds are timed. The report gives
 * each candidate's median and, per command, the median over rounds of
 * emulated / native. Each run is a separate CLI process with the compiled
 * binary's permissions.
 *
 * Needs proot, bwrap and qemu-aarch64-static, a binfmt_misc entry or a
 * kernel of 6.7 or later, and the cached arm64 busybox (built as root on
 * first use).
 *
 * @module
 */

import { arm64Busybox } from "./busybox_arm64.ts";
import { makeBusyboxRootfs } from "./busybox_rootfs.ts";
import { writeMetadata } from "../src/store/metadata.ts";
import { interleavedRounds, polythene, timedRun } from "./_bench_common.ts";
import { markdownTable, median, roundRatios } from "./_bench_stats.ts";

/** The CPU-bound command: 20,000 shell additions. */
export const CPU_COMMAND = [
  "sh",
  "-c",
  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i",
];

/** Options of the emulation benchmark. */
export interface ArchBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** Progress lines. */
  progress: (line: string) => void;
}

/** The backends compared. */
const BACKENDS = ["proot", "bubblewrap"] as const;

function exec(
  store: string,
  uuid: string,
  argv: string[],
  backend: string,
): string[] {
  return polythene(
    "exec",
    "--store",
    store,
    "--isolation",
    backend,
    "--isolation-floor",
    backend,
    uuid,
    "--",
    ...argv,
  );
}

/** Runs the benchmark; returns a Markdown report. */
export async function benchArch(options: ArchBenchOptions): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-bench-arch-" });
  try {
    const store = `${dir}/store`;
    const native = await makeBusyboxRootfs(store);
    const busybox = await arm64Busybox();
    const arm = await makeBusyboxRootfs(store, busybox.binary, busybox.applets);
    await writeMetadata(store, {
      schema: 1,
      uuid: arm,
      reference: "busybox-static:arm64",
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
      created: new Date().toISOString(),
      size: 0,
    });
    const candidates = BACKENDS.flatMap((b) => [
      { id: `${b}-true-native`, argv: exec(store, native, ["true"], b) },
      { id: `${b}-true-arm64`, argv: exec(store, arm, ["true"], b) },
      { id: `${b}-cpu-native`, argv: exec(store, native, CPU_COMMAND, b) },
      { id: `${b}-cpu-arm64`, argv: exec(store, arm, CPU_COMMAND, b) },
    ]);
    // One warm-up round first (round 0 in the progress lines).
    const samples = await interleavedRounds(candidates, {
      runs: options.runs,
      warmup: 1,
      measure: async (c) => (await timedRun(c.argv, { stdin: "null" })).ms,
      onRound: (round) =>
        options.progress(`arch: round ${round} of ${options.runs}`),
    });
    const rows = BACKENDS.flatMap((b) =>
      [["exec -- true", `${b}-true`], [
        "exec -- sh -c 'loop of 20,000 additions'",
        `${b}-cpu`,
      ]].map(([label, id]) => [b, label!, id!])
    ).map(([backend, label, id]) => {
      const n = samples.get(`${id}-native`)!;
      const e = samples.get(`${id}-arm64`)!;
      return [
        backend!,
        label!,
        `${median(n).toFixed(0)} ms`,
        `${median(e).toFixed(0)} ms`,
        median(roundRatios(e, [n])).toFixed(2),
      ];
    });
    return [
      `## emulation (${options.runs} rounds, medians)`,
      "",
      markdownTable(
        [
          "backend",
          "command",
          "native (amd64)",
          "emulated (arm64, qemu-user)",
          "ratio",
        ],
        rows,
        ["left", "left", "right", "right", "right"],
      ),
      "",
    ].join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
