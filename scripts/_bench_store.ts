/**
 * The store part of `deno task bench` (`--only store`):
 *
 * - `polythene clone` of a large entry against `cp -a` of the same tree
 *   (the Debian minbase entry when `scripts/debian_image.ts` has cached it,
 *   otherwise a busybox tree padded with 2,000 files, 200 MiB in all);
 * - `polythene exec --ephemeral UUID -- true` against `exec UUID -- true`.
 *
 * Each run is a separate CLI process with the compiled binary's permissions.
 * Prints a Markdown table with medians and the ratios.
 *
 * @module
 */

import { makeBusyboxRootfs } from "./busybox_rootfs.ts";
import { polythene, timedRun } from "./_bench_common.ts";
import { median } from "./_bench_stats.ts";

/** Options of the store benchmark. */
export interface StoreBenchOptions {
  /** Timed runs of each case. */
  runs: number;
}

async function largeEntry(
  store: string,
): Promise<{ uuid: string; what: string }> {
  const debian = "/var/cache/polythene-test/debian-bookworm-minbase.tar.gz";
  try {
    await Deno.stat(debian);
    const pulled = await timedRun(
      polythene("pull", "-q", "--store", store, `docker-archive:${debian}`),
    )
      .catch(() => undefined);
    if (pulled) {
      return { uuid: pulled.stdout.trim(), what: "Debian bookworm minbase" };
    }
  } catch {
    // No cached Debian image: pad a busybox tree instead.
  }
  const uuid = await makeBusyboxRootfs(store);
  const pad = `${store}/${uuid}/pad`;
  await Deno.mkdir(pad);
  const chunk = new Uint8Array(100 * 1024).map((_, i) => i % 251);
  for (let i = 0; i < 2000; i++) await Deno.writeFile(`${pad}/f${i}`, chunk);
  return { uuid, what: "busybox + 2,000 files (200 MiB)" };
}

/** Runs the store benchmark; returns a Markdown report. */
export async function benchStore(options: StoreBenchOptions): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "polythene-bench-store-" });
  const store = `${dir}/store`;
  try {
    const { uuid, what } = await largeEntry(store);
    const clone: number[] = [];
    const cp: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const made = await timedRun(polythene("clone", "--store", store, uuid));
      clone.push(made.ms);
      await timedRun(polythene("rm", "--store", store, made.stdout.trim()));
      const target = `${dir}/cp-${i}`;
      cp.push((await timedRun(["cp", "-a", `${store}/${uuid}`, target])).ms);
      await timedRun(["rm", "-rf", target]);
    }
    const plain: number[] = [];
    const ephemeral: number[] = [];
    const small = await makeBusyboxRootfs(store);
    for (let i = 0; i < options.runs; i++) {
      plain.push(
        (await timedRun(
          polythene("exec", "--store", store, small, "--", "true"),
        ))
          .ms,
      );
      ephemeral.push(
        (await timedRun(
          polythene(
            "exec",
            "--ephemeral",
            "--store",
            store,
            small,
            "--",
            "true",
          ),
        )).ms,
      );
    }
    const row = (label: string, a: number[], b: number[]) =>
      `| ${label} | ${median(a).toFixed(0)} ms | ${median(b).toFixed(0)} ms | ${
        (median(a) / median(b)).toFixed(2)
      } |`;
    return [
      `## store (${options.runs} runs each, medians)`,
      "",
      "| case | polythene | baseline | ratio |",
      "| --- | --- | --- | --- |",
      row(`clone of ${what} vs cp -a`, clone, cp),
      row(
        "exec --ephemeral -- true (busybox) vs exec -- true",
        ephemeral,
        plain,
      ),
      "",
    ].join("\n");
  } finally {
    await timedRun(["rm", "-rf", dir]).catch(() => {});
  }
}
