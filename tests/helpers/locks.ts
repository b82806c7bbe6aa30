/**
 * Seeing entry locks from outside: `flock` locks as the kernel lists them
 * in `/proc/locks`, and a command in a sandbox that reports when it runs and
 * waits for the test's go-ahead, over two FIFOs in its rootfs.
 *
 * @module
 */

import type { CliResult } from "./cli.ts";

/** One `flock` on an inode, as `/proc/locks` lists it. */
export interface Flock {
  /** `READ` (shared) or `WRITE` (exclusive). */
  mode: "READ" | "WRITE";
  /** True for a process blocked waiting for it (`->` in /proc/locks). */
  waiting: boolean;
  /** The holder's (or waiter's) pid. */
  pid: number;
}

/**
 * The `flock` locks held on, or awaited for, inode `ino` (of any device).
 * Pure apart from reading `/proc/locks`.
 */
export async function flocksOn(ino: number): Promise<Flock[]> {
  return parseProcLocks(await Deno.readTextFile("/proc/locks"), ino);
}

/** The FLOCK lines of a `/proc/locks` text for inode `ino`. Pure. */
export function parseProcLocks(text: string, ino: number): Flock[] {
  const found: Flock[] = [];
  for (const line of text.split("\n")) {
    const match =
      /^\d+: (-> )?FLOCK\s+\S+\s+(READ|WRITE)\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/
        .exec(line);
    if (match && Number(match[4]) === ino) {
      found.push({
        mode: match[2] as "READ" | "WRITE",
        waiting: match[1] !== undefined,
        pid: Number(match[3]),
      });
    }
  }
  return found;
}

/**
 * Waits until `check` holds, or `settled` (a process the check races with)
 * ends first; polls every 20 ms, for at most `boundMs` (a safety bound for a
 * hang, not a speed claim).
 *
 * @returns "held" when `check` held first, else what `settled` gave.
 */
export async function untilOrSettled<T>(
  check: () => Promise<boolean>,
  settled: Promise<T>,
  boundMs = 60_000,
): Promise<{ kind: "held" } | { kind: "settled"; value: T }> {
  let value: { kind: "settled"; value: T } | undefined;
  settled.then((v) => value = { kind: "settled", value: v }, () => {});
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await check()) return { kind: "held" };
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Neither happened within the ${boundMs} ms safety bound`);
}

/**
 * FIFOs in a rootfs for a command that says when it runs and waits to be let
 * go: inside, `echo ready > /ready; read x < /go`.
 */
export class Handshake {
  readonly #root: string;

  constructor(rootfs: string) {
    this.#root = rootfs;
  }

  /** The shell text the command runs first. */
  static readonly SCRIPT = "echo ready > /ready; read x < /go; ";

  /** Makes `/ready` and `/go` in the rootfs. */
  async make(): Promise<void> {
    for (const name of ["ready", "go"]) {
      const out = await new Deno.Command("mkfifo", {
        args: ["-m", "0666", `${this.#root}/${name}`],
      }).output();
      if (!out.success) throw new Error(`mkfifo ${name} failed`);
    }
  }

  /**
   * Resolves once the command wrote `/ready`; fails if `run` ends first.
   */
  async ready(run: Promise<CliResult>): Promise<void> {
    let ended: CliResult | undefined;
    const reading = Deno.readTextFile(`${this.#root}/ready`);
    const result = await Promise.race([
      reading.then((text) => ({ text })),
      run.then((r) => ended = r),
    ]);
    if (ended !== undefined && !("text" in result)) {
      // Unblock the pending read before failing.
      await Deno.writeTextFile(`${this.#root}/ready`, "").catch(() => {});
      await reading.catch(() => {});
      throw new Error(
        `The command ended before it was ready: exit ${ended.code}\n` +
          ended.stderr,
      );
    }
  }

  /** Lets the command continue. */
  async go(): Promise<void> {
    await Deno.writeTextFile(`${this.#root}/go`, "go\n", { create: false });
  }
}
