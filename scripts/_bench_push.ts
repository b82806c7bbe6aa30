/**
 * The push part of `deno task bench` (`--only push`): `polythene commit` +
 * `polythene push` of the Debian entry after `apt-get install -y hello`,
 * against the floor: `tar -c` of the changed paths `| gzip`, `sha256sum`,
 * and `curl` POST + PUT of that one blob to the same registry.
 *
 * Set-up, once: a loopback `docker-registry`; the cached Debian image
 * (`debian_image.ts`) pushed to it as `bench/debian:12`; one entry pulled
 * from there, a marker file, then `apt-get update` and `apt-get install -y
 * hello` in it (over the network, as root). The changed paths are those
 * whose ctime is newer than the marker (dpkg renames files into place, so
 * their ctime is new even when their mtime is the package's).
 *
 * Each round, in alternating order, times both candidates, each to a
 * repository of its own for that round, so nothing is skipped as already
 * there; polythene's base layer is mounted from `bench/debian` (the entry
 * was pulled from it), as a real push to the base's registry would. The
 * ratio polythene / floor is taken per round; the report gives medians. At
 * the end, one pushed image is pulled on a fresh store and `hello` run, so
 * the numbers are for an image that works.
 *
 * podman: `podman commit` needs a container, and `podman run` cannot start
 * one on this host (crun: `setrlimit RLIMIT_NOFILE: Operation not
 * permitted`), so podman is left out, with that note in the report.
 *
 * Permissions: all (`-A`); root, for apt in the entry.
 *
 * @module
 */

import { resolveLocalImage } from "../src/image/local_images.ts";
import { pushImage, startRegistry } from "../tests/helpers/registry.ts";
import { debianImage, debianOciImage } from "./debian_image.ts";
import { interleavedRounds, polythene, timedRun } from "./_bench_common.ts";
import { median, roundRatios } from "./_bench_stats.ts";

/** Options of the push benchmark. */
export interface PushBenchOptions {
  /** Timed rounds. */
  runs: number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

/** The floor's shell script: tar | gzip, digest, then POST + PUT with curl. */
const FLOOR_SCRIPT = [
  'cd "$1" && tar -c --no-recursion -T "$2" | gzip > "$3"',
  'digest=sha256:$(sha256sum "$3" | cut -d" " -f1)',
  'location=$(curl -sf -D - -o /dev/null -X POST "$4/blobs/uploads/" | tr -d "\\r" | sed -n "s/^[Ll]ocation: //p")',
  'case "$location" in *\\?*) sep="&" ;; *) sep="?" ;; esac',
  'curl -sf -o /dev/null -X PUT -H "content-type: application/octet-stream" --data-binary @"$3" "$location${sep}digest=$digest"',
].join("\n");

/** Runs the push benchmark; returns a Markdown report. */
export async function benchPush(options: PushBenchOptions): Promise<string> {
  const progress = options.progress ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "polythene-bench-push-" });
  const store = `${dir}/store`;
  await using registry = await startRegistry();
  try {
    progress("push: pushing the Debian image to the loopback registry");
    const debian = await debianOciImage(await debianImage());
    await pushImage(registry, "bench/debian", "12", debian);
    const base = `${registry.host}/bench/debian:12`;
    const pulled = await timedRun(
      polythene("pull", "-q", "--store", store, base),
    );
    const uuid = pulled.stdout.trim();
    const entry = `${store}/${uuid}`;
    const marker = `${dir}/marker`;
    await Deno.writeTextFile(marker, "");
    await new Promise((resolve) => setTimeout(resolve, 20));
    progress("push: apt-get install -y hello in the entry");
    await timedRun(polythene(
      "exec",
      "--store",
      store,
      uuid,
      "--",
      "sh",
      "-c",
      "apt-get update -qq && apt-get install -y -qq hello >/dev/null",
    ));
    const list = `${dir}/changed.list`;
    const found = await timedRun([
      "sh",
      "-c",
      'cd "$1" && find . -cnewer "$2" ! -name .polythene-meta',
      "sh",
      entry,
      marker,
    ]);
    await Deno.writeTextFile(list, found.stdout);
    const changed = found.stdout.split("\n").filter((l) => l !== "").length;

    let floorBytes = 0;
    const ref = (round: number) => `${registry.host}/bench/hello-${round}:1`;
    const candidates = [
      {
        id: "ours",
        // polythene commit + push, to a repository of the round's own.
        run: async (round: number) => {
          const commit = await timedRun(
            polythene("commit", "--store", store, uuid, ref(round)),
          );
          const push = await timedRun(
            polythene("push", "-q", "--store", store, ref(round), ref(round)),
          );
          return commit.ms + push.ms;
        },
      },
      {
        id: "floor",
        run: async (round: number) => {
          const gz = `${dir}/floor-${round}.tar.gz`;
          const { ms } = await timedRun([
            "sh",
            "-c",
            FLOOR_SCRIPT,
            "sh",
            entry,
            list,
            gz,
            `${registry.url}/v2/bench/floor-${round}`,
          ]);
          floorBytes = (await Deno.stat(gz)).size;
          await Deno.remove(gz);
          return ms;
        },
      },
    ];
    const samples = await interleavedRounds(candidates, {
      runs: options.runs,
      measure: (c, round) => c.run(round),
      onRound: (round) => progress(`push: round ${round + 1}/${options.runs}`),
    });
    const ours = samples.get("ours")!;
    const floor = samples.get("floor")!;
    const ratios = roundRatios(ours, [floor]);
    const local = await resolveLocalImage(store, ref(options.runs - 1));
    const manifest = JSON.parse(
      await Deno.readTextFile(
        `${local.layout}/blobs/${local.manifest.digest.replace(":", "/")}`,
      ),
    );
    const layerBytes: number = manifest.layers.at(-1).size;

    progress("push: pulling one pushed image on a fresh store to run hello");
    const check = `${dir}/check`;
    const again = await timedRun(polythene(
      "pull",
      "-q",
      "--store",
      check,
      `${registry.host}/bench/hello-0:1`,
    ));
    const hello = await timedRun(
      polythene("exec", "--store", check, again.stdout.trim(), "--", "hello"),
    );
    if (hello.stdout !== "Hello, world!\n") {
      throw new Error(`the pushed image does not run hello: ${hello.stdout}`);
    }

    const ms = (values: number[]) => `${median(values).toFixed(0)} ms`;
    return [
      `## push (${options.runs} rounds, medians)`,
      "",
      `Debian bookworm minbase after \`apt-get install -y hello\`: ${changed} changed paths; ` +
      `polythene's new layer ${
        (layerBytes / 1024).toFixed(0)
      } KiB, the floor's tar.gz ${(floorBytes / 1024).toFixed(0)} KiB. ` +
      "The base layer is mounted from the repository the entry was pulled from.",
      "",
      "| case | time | ratio to the floor (median of rounds) |",
      "| --- | --- | --- |",
      `| polythene commit + push (two CLI runs) | ${ms(ours)} | ${
        median(ratios).toFixed(2)
      } |`,
      `| floor: tar -c changed paths \\| gzip, sha256sum, curl POST + PUT | ${
        ms(floor)
      } | 1.00 |`,
      "| podman commit + push | not run | podman run cannot start a container on this host (crun: setrlimit RLIMIT_NOFILE: Operation not permitted), and commit needs one |",
      "",
    ].join("\n");
  } finally {
    await timedRun(["rm", "-rf", dir]).catch(() => {});
  }
}
