/**
 * The pull part of `deno task bench`: how long `polythene pull` takes to
 * turn the Debian test image, served by a registry on loopback, into a
 * root filesystem, against the other ways of doing it and against the
 * floor, `curl | gzip -d | tar -x`; and how much memory it takes.
 *
 * In one run, interleaved over `runs` rounds (the order rotating from round
 * to round), it times:
 *
 * - `polythene pull`, cold: a fresh store each time, so no blob cache;
 * - `polythene pull`, warm: one store whose blob cache and layer-stack
 *   cache hold the image (primed by two pulls), a new entry each time
 *   (removed afterwards): a tree copy;
 * - `polythene pull`, warm with the blob cache only: its stack cache is
 *   removed after each run (untimed), so the layer is extracted;
 * - `skopeo copy docker://... oci:DIR` + `umoci unpack`;
 * - `podman pull` + `podman create --pull=never` + `podman export | tar -x`,
 *   in a private vfs storage, with `podman rm` and `rmi` after each round
 *   (untimed) so that every pull is cold;
 * - the floor, `curl -s BLOB | gzip -d | tar -x`, as one `sh -c` with a
 *   fixed script and the URL as a positional parameter; once more into a
 *   directory under a `chattr +T` parent, as polythene's staging is
 *   (`src/store/spread.ts`), so that both make inodes in the same kind of
 *   place;
 * - stages of the work, to tell where the time goes: the download alone and
 *   with gunzip (curl, gzip), and a `deno run` of this module that fetches
 *   the blob, then also gunzips it with polythene's own `decompressStream`,
 *   then also parses the tar with `modern-tar` (bodies read, nothing
 *   written).
 *
 * Each candidate writes into a fresh directory that is removed afterwards,
 * followed by `sync`, untimed, so that no candidate pays for another's
 * writeback. Peak RSS of `polythene pull` is `/usr/bin/time -f %M` (the
 * deno process's `ru_maxrss`) when that program exists, otherwise the last
 * `VmHWM` read from `/proc/PID/status` every 20 ms.
 *
 * Run as a script, it is that stage helper:
 * `deno run ... scripts/_bench_pull.ts fetch|gunzip|tar URL MEDIA_TYPE`.
 *
 * Permissions: all (`-A`) as part of `bench.ts`; the stage helper needs
 * `--allow-net` and `--allow-read`.
 *
 * @module
 */

import { TOOL_PATH } from "./_bench_common.ts";
import { createTarDecoder } from "modern-tar";
import { decompressStream } from "../src/image/layers/decompress.ts";
import { pushImage, startRegistry } from "../tests/helpers/registry.ts";
import {
  formatRatio,
  markdownTable,
  median,
  percentile,
  rotate,
  roundRatios,
} from "./_bench_stats.ts";
import { debianImage, debianOciImage } from "./debian_image.ts";

/** What the pull bench needs from its caller. */
export interface PullBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** Untimed rounds first. */
  warmup: number;
  /** argv of `polythene ARGS` as the `polythene` task runs it. */
  polythene(args: string[]): string[];
  /** argv of `deno run` with polythene's permissions, for the stage helper. */
  denoRun(args: string[]): string[];
  /** Environment of every `deno run`. */
  env: Record<string, string>;
  /** A progress line on stderr. */
  progress(message: string): void;
}

/** Goals from the issue (issue 11). */
export const PULL_GOALS = {
  /** cold pull / floor. */
  cold: 0.9,
  /** warm pull / floor. */
  warm: 0.5,
  /** cold pull / (skopeo + umoci). */
  skopeo: 0.6,
  /** Peak RSS, in MB (10^6 bytes). */
  rssMb: 200,
} as const;

/** One timed run. */
export interface Sample {
  /** Wall time of the timed steps, milliseconds. */
  ms: number;
  /** Peak RSS in KiB, for polythene runs. */
  rssKiB?: number;
}

interface PullCandidate {
  id: string;
  label: string;
  /** Candidates of `kind: "stage"` only explain; they are not compared. */
  kind: "compared" | "stage";
  /** Runs once, writing (if at all) into `dir`, which exists and is empty. */
  run(dir: string): Promise<Sample>;
}

const REPO = "bench/debian";
const TAG = "bookworm";
const HERE = decodeURIComponent(new URL(import.meta.url).pathname);
const FLOOR_SCRIPT =
  'curl -sSf "$1" | gzip -d | tar -x --numeric-owner -C "$2"';
/**
 * The floor into a randomly named directory under a `chattr +T` one, as
 * polythene's staging makes each entry (`STORE/.polythene/staging/UUID`).
 * The name matters: ext4 starts its search for a `+T` child's block group
 * at a hash of the child's name, so a fixed name would land every round in
 * the group the previous round's tree was just removed from.
 */
const FLOOR_SPREAD_SCRIPT =
  'chattr +T "$2" && r=$(mktemp -d "$2/rootfs-XXXXXXXX") && ' +
  'curl -sSf "$1" | gzip -d | tar -x --numeric-owner -C "$r"';
const GUNZIP_SCRIPT = 'curl -sSf "$1" | gzip -d > /dev/null';
const EXPORT_SCRIPT =
  'podman --root "$1" --runroot "$2" export "$3" | tar -x --numeric-owner -C "$4"';

/**
 * Runs the pull bench and returns its report, a markdown section.
 *
 * @throws {Error} when a candidate fails, with its stderr.
 */
export async function benchPull(options: PullBenchOptions): Promise<string> {
  const { progress } = options;
  progress("pull: making sure the Debian image is cached (built if not)");
  const debian = await debianImage();
  const image = await debianOciImage(debian);
  const tmp = await Deno.makeTempDir({ prefix: "polythene-bench-pull-" });
  // podman refuses a runroot path longer than 50 characters.
  const podmanDir = await Deno.makeTempDir({ prefix: "pb-" });
  const registry = await startRegistry();
  try {
    await pushImage(registry, REPO, TAG, image);
    const ref = `${registry.host}/${REPO}:${TAG}`;
    const blobUrl = `${registry.url}/v2/${REPO}/blobs/${debian.digest}`;
    const mediaType = image.layers[0]!.descriptor.mediaType;
    const rss = rssProbe();
    const toolEnv = { PATH: TOOL_PATH, HOME: Deno.env.get("HOME") ?? "/root" };
    const warmStore = `${tmp}/warm-store`;
    const podmanRoot = `${podmanDir}/root`;
    const podmanRun = `${podmanDir}/run`;
    const podmanEnv = {
      ...toolEnv,
      CONTAINERS_STORAGE_DRIVER: "vfs",
      CONTAINERS_EVENTS_BACKEND: "file",
    };
    const podman = (...args: string[]) => [
      "podman",
      "--root",
      podmanRoot,
      "--runroot",
      podmanRun,
      ...args,
    ];

    const pull = async (store: string): Promise<Sample & { uuid: string }> => {
      const argv = options.polythene([
        "pull",
        "--quiet",
        "--store",
        store,
        ref,
      ]);
      const out = await rss.run(argv, options.env);
      return { ms: out.ms, rssKiB: out.rssKiB, uuid: out.stdout.trim() };
    };

    progress("pull: filling the warm stores' blob and layer-stack caches");
    // The first pull leaves a marker, the second builds the stack.
    for (let i = 0; i < 2; i++) {
      const primed = await pull(warmStore);
      await Deno.remove(`${warmStore}/${primed.uuid}`, { recursive: true });
    }
    const blobStore = `${tmp}/blob-store`;
    const blobOnly = await pull(blobStore);
    await Deno.remove(`${blobStore}/${blobOnly.uuid}`, { recursive: true });

    const candidates: PullCandidate[] = [
      {
        id: "cold",
        label: "polythene pull, cold (fresh store)",
        kind: "compared",
        run: async (dir) => {
          const { ms, rssKiB } = await pull(`${dir}/store`);
          return { ms, rssKiB };
        },
      },
      {
        id: "warm",
        label: "polythene pull, warm (layer stack cached)",
        kind: "compared",
        run: async () => {
          const { ms, rssKiB, uuid } = await pull(warmStore);
          await Deno.remove(`${warmStore}/${uuid}`, { recursive: true });
          return { ms, rssKiB };
        },
      },
      {
        id: "warm-blob",
        label: "polythene pull, warm (blob cached, no stack)",
        kind: "compared",
        run: async () => {
          const { ms, rssKiB, uuid } = await pull(blobStore);
          await Deno.remove(`${blobStore}/${uuid}`, { recursive: true });
          await Deno.remove(`${blobStore}/.polythene/stacks`, {
            recursive: true,
          }).catch(() => {});
          return { ms, rssKiB };
        },
      },
      {
        id: "skopeo",
        label: "skopeo copy + umoci unpack",
        kind: "compared",
        run: async (dir) => {
          const copy = await timed([
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            `docker://${ref}`,
            `oci:${dir}/oci:${TAG}`,
          ], toolEnv);
          const unpack = await timed([
            "umoci",
            "unpack",
            "--image",
            `${dir}/oci:${TAG}`,
            `${dir}/bundle`,
          ], toolEnv);
          return { ms: copy.ms + unpack.ms };
        },
      },
      {
        id: "podman",
        label: "podman pull + create + export | tar -x",
        kind: "compared",
        run: async (dir) => {
          const pulled = await timed(
            podman("pull", "--quiet", "--tls-verify=false", ref),
            podmanEnv,
          );
          const created = await timed(
            podman("create", "--pull=never", ref),
            podmanEnv,
          );
          const id = created.stdout.trim();
          const exported = await timed(
            ["sh", "-c", EXPORT_SCRIPT, "sh", podmanRoot, podmanRun, id, dir],
            podmanEnv,
          );
          await timed(podman("rm", "--force", id), podmanEnv);
          await timed(podman("rmi", "--force", ref), podmanEnv);
          return { ms: pulled.ms + created.ms + exported.ms };
        },
      },
      {
        id: "floor",
        label: "floor: curl | gzip -d | tar -x",
        kind: "compared",
        run: async (dir) =>
          await timed(["sh", "-c", FLOOR_SCRIPT, "sh", blobUrl, dir], toolEnv),
      },
      {
        id: "floor-spread",
        label: "floor, in a new directory under a chattr +T one",
        kind: "compared",
        run: async (dir) =>
          await timed(
            ["sh", "-c", FLOOR_SPREAD_SCRIPT, "sh", blobUrl, dir],
            toolEnv,
          ),
      },
      {
        id: "curl",
        label: "stage: curl > /dev/null",
        kind: "stage",
        run: async () =>
          await timed(["curl", "-sSf", "-o", "/dev/null", blobUrl], toolEnv),
      },
      {
        id: "curl-gunzip",
        label: "stage: curl | gzip -d > /dev/null",
        kind: "stage",
        run: async () =>
          await timed(["sh", "-c", GUNZIP_SCRIPT, "sh", blobUrl], toolEnv),
      },
      ...(["fetch", "gunzip", "tar"] as const).map((stage) => ({
        id: `deno-${stage}`,
        label: `stage: deno run, ${STAGE_LABELS[stage]}`,
        kind: "stage" as const,
        run: async () =>
          await timed(
            options.denoRun([HERE, stage, blobUrl, mediaType]),
            options.env,
          ),
      })),
    ];

    const samples = new Map<string, Sample[]>(
      candidates.map((c) => [c.id, []]),
    );
    const runOnce = async (c: PullCandidate, keep: boolean) => {
      const dir = await Deno.makeTempDir({ dir: tmp, prefix: `${c.id}-` });
      try {
        const sample = await c.run(dir);
        if (keep) samples.get(c.id)!.push(sample);
      } finally {
        await Deno.remove(dir, { recursive: true });
        await timed(["sync"], toolEnv);
      }
    };
    for (let round = 0; round < options.warmup; round++) {
      progress(`pull: warm-up round ${round + 1}/${options.warmup}`);
      for (const c of rotate(candidates, round)) await runOnce(c, false);
    }
    for (let round = 0; round < options.runs; round++) {
      progress(`pull: round ${round + 1}/${options.runs}`);
      for (const c of rotate(candidates, round)) await runOnce(c, true);
    }

    progress("pull: one verbose cold pull, for its phases");
    const phaseStore = `${tmp}/phase-store`;
    const verbose = await timed(
      options.polythene(["pull", "--verbose", "--store", phaseStore, ref]),
      options.env,
    );
    const phases = pullPhases(verbose.stderr, verbose.startedAt, verbose.ms);
    await Deno.remove(phaseStore, { recursive: true });

    return pullReport({
      options,
      candidates,
      samples,
      phases,
      rssMethod: rss.method,
      image: {
        gzBytes: debian.size,
        tarBytes: debian.tarSize,
        debootstrapSeconds: debian.debootstrapSeconds,
        mirror: debian.mirror,
      },
    });
  } finally {
    await registry.stop();
    for (const dir of [tmp, podmanDir]) {
      await Deno.remove(dir, { recursive: true }).catch((error) =>
        progress(`pull: cannot remove ${dir}: ${error}`)
      );
    }
  }
}

const STAGE_LABELS = {
  fetch: "fetch the blob, count its bytes",
  gunzip: "fetch + gunzip (polythene's decompressStream)",
  tar: "fetch + gunzip + tar parse (modern-tar, bodies read, nothing written)",
} as const;

interface Timed {
  ms: number;
  stdout: string;
  stderr: string;
  /** `Date.now()` just before the spawn. */
  startedAt: number;
}

/**
 * Runs `argv` with exactly `env`, stdin closed, output captured.
 *
 * @throws {Error} naming the command and its stderr when it fails.
 */
async function timed(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<Timed> {
  const command = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const startedAt = Date.now();
  const start = performance.now();
  const out = await command.output();
  const ms = performance.now() - start;
  const decoder = new TextDecoder();
  const stderr = decoder.decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `"${argv.join(" ")}" exited ${out.code}: ${
        stderr.trim().slice(-2000) || "no message"
      }`,
    );
  }
  return { ms, stdout: decoder.decode(out.stdout), stderr, startedAt };
}

/** How the peak RSS of a polythene run is measured. */
interface RssProbe {
  /** Says which way, for the report. */
  method: string;
  /** Runs `argv` timed, with its peak RSS. */
  run(
    argv: string[],
    env: Record<string, string>,
  ): Promise<{ ms: number; rssKiB: number; stdout: string }>;
}

function rssProbe(): RssProbe {
  const time = "/usr/bin/time";
  let haveTime = false;
  try {
    haveTime = Deno.statSync(time).isFile;
  } catch { /* absent */ }
  if (haveTime) {
    return {
      method: "`/usr/bin/time -f %M` (GNU time: ru_maxrss of the deno " +
        "process, or of a child if larger; the only child on this path is " +
        "one `chattr`, of about 1 MB)",
      async run(argv, env) {
        const file = await Deno.makeTempFile({ prefix: "polythene-rss-" });
        try {
          const out = await timed([time, "-f", "%M", "-o", file, ...argv], env);
          const rssKiB = parseMaxRssKiB(await Deno.readTextFile(file));
          if (rssKiB === undefined) {
            throw new Error(`Cannot read ${time}'s output in ${file}`);
          }
          return { ms: out.ms, rssKiB, stdout: out.stdout };
        } finally {
          await Deno.remove(file);
        }
      },
    };
  }
  return {
    method: "the last `VmHWM` of `/proc/PID/status`, read every 20 ms",
    async run(argv, env) {
      const child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        env,
        clearEnv: true,
        cwd: "/",
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
      const start = performance.now();
      const process = child.spawn();
      let rssKiB = 0;
      const poll = () => {
        try {
          const status = Deno.readTextFileSync(`/proc/${process.pid}/status`);
          rssKiB = Math.max(rssKiB, parseVmHwmKiB(status) ?? 0);
        } catch { /* exited */ }
      };
      poll();
      const timer = setInterval(poll, 20);
      const out = await process.output();
      const ms = performance.now() - start;
      clearInterval(timer);
      if (!out.success) {
        throw new Error(
          `"${argv.join(" ")}" exited ${out.code}: ${
            new TextDecoder().decode(out.stderr).trim().slice(-2000)
          }`,
        );
      }
      return { ms, rssKiB, stdout: new TextDecoder().decode(out.stdout) };
    },
  };
}

/** The KiB figure GNU time's `-f %M` writes, or undefined. Pure. */
export function parseMaxRssKiB(text: string): number | undefined {
  const lines = text.trim().split("\n");
  const last = lines.at(-1)?.trim() ?? "";
  return /^\d+$/.test(last) ? Number(last) : undefined;
}

/** `VmHWM` in KiB from a `/proc/PID/status` text, or undefined. Pure. */
export function parseVmHwmKiB(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** Where one verbose pull spent its time, in milliseconds. */
export interface PullPhases {
  /** Spawn to the first log line: Deno's start and module loading. */
  start: number;
  /** First log line to the layer's download starting: store, manifest, config. */
  resolve: number;
  /** Download start to `published`: download, verify, gunzip, tar, writes. */
  layer: number;
  /** `published` to exit. */
  exit: number;
}

/**
 * Splits a `pull --verbose` run by its timestamped stderr lines
 * (`2026-...Z polythene: ...`). Pure.
 *
 * @param stderr The run's stderr.
 * @param startedAt `Date.now()` at the spawn.
 * @param totalMs The run's wall time.
 * @returns undefined when the lines it needs are missing.
 */
export function pullPhases(
  stderr: string,
  startedAt: number,
  totalMs: number,
): PullPhases | undefined {
  const stamped = stderr.split("\n").flatMap((line) => {
    const match = /^\s*(\d{4}-\d\d-\d\dT[\d:.]+Z) polythene: (.*)$/.exec(line);
    return match ? [{ at: Date.parse(match[1]!), text: match[2]! }] : [];
  });
  const first = stamped[0];
  const download = stamped.find((l) => / downloading /.test(l.text));
  const published = stamped.find((l) => l.text.startsWith("published "));
  if (!first || !download || !published) return undefined;
  return {
    start: first.at - startedAt,
    resolve: download.at - first.at,
    layer: published.at - download.at,
    exit: startedAt + totalMs - published.at,
  };
}

interface ReportInput {
  options: PullBenchOptions;
  candidates: readonly PullCandidate[];
  samples: ReadonlyMap<string, Sample[]>;
  phases: PullPhases | undefined;
  rssMethod: string;
  image: {
    gzBytes: number;
    tarBytes: number;
    debootstrapSeconds: number;
    mirror: string;
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/** KiB to MB (10^6 bytes), as the goal is stated. */
function mb(kib: number): string {
  return (kib * 1024 / 1e6).toFixed(0);
}

function pullReport(input: ReportInput): string {
  const { options, candidates, samples, phases, rssMethod, image } = input;
  const ms = (id: string) => samples.get(id)!.map((s) => s.ms);
  const floor = ms("floor");
  const ratio = (id: string) => roundRatios(ms(id), [floor]);
  const goals: Record<string, number> = {
    cold: PULL_GOALS.cold,
    warm: PULL_GOALS.warm,
  };

  const compared = markdownTable(
    ["candidate", "median s", "p90 s", "ratio to floor", "goal"],
    candidates.filter((c) => c.kind === "compared").map((c) => {
      const r = median(ratio(c.id));
      const goal = goals[c.id];
      return [
        c.label,
        seconds(median(ms(c.id))),
        seconds(percentile(ms(c.id), 90)),
        formatRatio(r),
        goal === undefined
          ? "-"
          : `<= ${goal}: ${r <= goal ? "met" : "NOT met"}`,
      ];
    }),
    ["left", "right", "right", "right", "left"],
  );

  const stages = markdownTable(
    ["stage", "median s", "ratio to floor"],
    candidates.filter((c) => c.kind === "stage").map((c) => [
      c.label,
      seconds(median(ms(c.id))),
      formatRatio(median(ratio(c.id))),
    ]),
    ["left", "right", "right"],
  );

  const skopeo = median(roundRatios(ms("cold"), [ms("skopeo")]));
  const skopeoLine = `Cold pull / (skopeo + umoci), median of per-round ` +
    `ratios: ${formatRatio(skopeo)} (goal <= ${PULL_GOALS.skopeo}: ${
      skopeo <= PULL_GOALS.skopeo ? "met" : "NOT met"
    }).`;

  const spread = ms("floor-spread");
  const spreadLine = "Against the floor under a `chattr +T` directory " +
    "(the placement polythene's staging gets; median of per-round ratios): " +
    ["cold", "warm", "warm-blob"].map((id) =>
      `${id} ${formatRatio(median(roundRatios(ms(id), [spread])))}`
    ).join(", ") + ".";

  const rssRows = ["cold", "warm", "warm-blob"].map((id) => {
    const kib = samples.get(id)!.map((s) => s.rssKiB ?? 0);
    const max = Math.max(...kib);
    return [
      candidates.find((c) => c.id === id)!.label,
      mb(median(kib)),
      mb(max),
      max * 1024 / 1e6 <= PULL_GOALS.rssMb ? "met" : "NOT met",
    ];
  });
  const rss = markdownTable(
    ["candidate", "median MB", "max MB", `goal <= ${PULL_GOALS.rssMb} MB`],
    rssRows,
    ["left", "right", "right", "left"],
  );

  const phaseText = phases === undefined
    ? "The verbose pull's log lacked the lines to split it by phase."
    : markdownTable(
      ["phase of one verbose cold pull", "ms"],
      [
        ["spawn to first log line (Deno start, modules)", phases.start],
        [
          "first log line to layer download (store, manifest, config)",
          phases.resolve,
        ],
        ["layer: download, verify, gunzip, tar, writes, publish", phases.layer],
        ["published to exit", phases.exit],
      ].map(([label, value]) => [String(label), (value as number).toFixed(0)]),
      ["left", "right"],
    );

  return [
    "# polythene pull",
    "",
    `The Debian test image (\`debootstrap --variant=minbase bookworm\`, ` +
    `${image.mirror}; one gzip layer of ${
      (image.gzBytes / 2 ** 20).toFixed(1)
    } MiB, ${
      (image.tarBytes / 2 ** 20).toFixed(1)
    } MiB as tar) served by docker-registry on 127.0.0.1. ` +
    `${options.runs} timed rounds after ${options.warmup} warm-up round(s); ` +
    "each round runs every candidate once, in an order that rotates from " +
    "round to round, each into a fresh directory that is removed and " +
    "`sync`ed afterwards, untimed. Ratios are taken per round, then the " +
    "median over rounds.",
    "",
    compared,
    "",
    skopeoLine,
    "",
    spreadLine,
    "",
    `Peak RSS of \`polythene pull\`, measured with ${rssMethod}:`,
    "",
    rss,
    "",
    "## Where the time goes",
    "",
    stages,
    "",
    phaseText,
    "",
  ].join("\n");
}

/**
 * The stage helper: fetches `url`, and with `gunzip` or `tar` also
 * decompresses it as polythene does, and with `tar` parses the tar with
 * modern-tar, reading every body. Prints the byte counts.
 */
async function stage(mode: string, url: string, mediaType: string) {
  const response = await fetch(url);
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${url}: ${response.status}`);
  }
  let bytes = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  if (mode === "fetch") {
    for await (const _ of counted) { /* count only */ }
    console.log(`${bytes} bytes`);
    return;
  }
  const tar = decompressStream(mediaType, counted);
  if (mode === "gunzip") {
    let tarBytes = 0;
    for await (const chunk of tar) tarBytes += chunk.length;
    console.log(`${bytes} bytes, ${tarBytes} tar bytes`);
    return;
  }
  let entries = 0;
  let bodyBytes = 0;
  for await (const entry of tar.pipeThrough(createTarDecoder())) {
    entries++;
    for await (const chunk of entry.body) bodyBytes += chunk.length;
  }
  console.log(`${bytes} bytes, ${entries} entries, ${bodyBytes} body bytes`);
}

if (import.meta.main) {
  const [mode, url, mediaType] = Deno.args;
  if (
    !["fetch", "gunzip", "tar"].includes(mode ?? "") || !url || !mediaType
  ) {
    console.error("usage: _bench_pull.ts fetch|gunzip|tar URL MEDIA_TYPE");
    Deno.exit(2);
  }
  await stage(mode!, url, mediaType);
}
