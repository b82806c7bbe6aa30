/**
 * The one module that starts processes. Every child gets an argv array (never
 * a shell string built by concatenation), an explicit environment
 * (`clearEnv`), and stdio set on purpose.
 *
 * Permissions: `--allow-run` for the program spawned.
 *
 * @module
 */

import { PolytheneError } from "../errors.ts";

/** Result of {@linkcode runAttached}. */
export interface AttachedResult {
  /** Exit code; 128 + N when the child died of signal N. */
  code: number;
  /** True when the timeout fired and the child was killed. */
  timedOut: boolean;
  /** The signal polythene received and forwarded, if any. */
  forwarded?: Deno.Signal;
}

/**
 * Asks {@linkcode runAttached} to capture the child's output instead of
 * passing stdio through: stdout and stderr are piped and collected while the
 * child runs, and stdin is closed (`/dev/null`) or carries `input`.
 */
export interface OutputCapture {
  /** Bytes for the child's stdin, which is closed after them. */
  input?: Uint8Array;
  /**
   * Receives everything the child wrote, once it has exited and both pipes
   * have closed. Called once per child started.
   */
  collect(stdout: Uint8Array, stderr: Uint8Array): void;
}

/** Options for {@linkcode runAttached}. */
export interface AttachedOptions {
  /** The child's whole environment. */
  env: Record<string, string>;
  /** Kill the child with SIGKILL after this many milliseconds. */
  timeoutMs?: number;
  /** Signals received by polythene that are passed on to the child. */
  forward?: readonly Deno.Signal[];
  /**
   * Delivers `signal` to the child's whole tree, for backends where
   * signalling the child alone would not reach it. Default: signal the child.
   */
  signalTree?: (pid: number, signal: Deno.Signal) => Promise<void>;
  /** Capture stdout and stderr; default: stdio is inherited. */
  capture?: OutputCapture;
  /**
   * Start the child in a session of its own (`setsid`), without a
   * controlling terminal, so nothing it starts can reach the caller's
   * terminal through `/dev/tty` or `TIOCSTI`.
   */
  newSession?: boolean;
  /**
   * On a timeout, once `signalTree` has killed the tree (the child's child
   * included), let the child end by itself; if it is still there after 1 s,
   * SIGTERM, and SIGKILL 2 s later. For `script`, which must restore the
   * caller's terminal, and would not if it were killed.
   */
  gentleEnd?: boolean;
  /** Called with the child's pid as soon as it has started. */
  onStart?: (pid: number) => void;
}

/**
 * Runs `argv` with stdin, stdout and stderr passed straight through (or
 * captured, with `capture`), and waits for it.
 *
 * A timeout or a forwarded signal goes to the child, or through
 * `signalTree` when the backend needs it; the backends make sure that the
 * whole tree ends with the child (see `docs/design.md`).
 */
export async function runAttached(
  argv: readonly string[],
  options: AttachedOptions,
): Promise<AttachedResult> {
  const capture = options.capture;
  const child = spawnAllowed(argv, options.env, {
    stdin: capture === undefined
      ? "inherit"
      : capture.input === undefined
      ? "null"
      : "piped",
    stdout: capture === undefined ? "inherit" : "piped",
    stderr: capture === undefined ? "inherit" : "piped",
    // Deno's `detached` is setsid(2) in the child before exec.
    detached: options.newSession === true,
  });
  options.onStart?.(child.pid);
  // Read both pipes while the child runs, so a full pipe never blocks it.
  const collected = capture === undefined ? undefined : Promise.all([
    new Response(child.stdout).bytes(),
    new Response(child.stderr).bytes(),
    capture.input === undefined ? undefined : feed(child.stdin, capture.input),
  ]);

  let timedOut = false;
  let exited = false;
  let forwarded: Deno.Signal | undefined;
  let lastResort: ReturnType<typeof setTimeout> | undefined;
  // Through `signalTree` first: for proot, killing the child first would
  // leave its tracees running and no longer findable.
  const deliver = async (signal: Deno.Signal) => {
    if (options.signalTree !== undefined) {
      await options.signalTree(child.pid, signal).catch(() => {});
      if (signal !== "SIGKILL") return;
      if (options.gentleEnd === true) {
        // It should end by itself now that its child is gone.
        lastResort = setTimeout(() => {
          if (exited) return;
          kill(child, "SIGTERM");
          lastResort = setTimeout(() => {
            if (!exited) kill(child, "SIGKILL");
          }, 2000);
        }, 1000);
        return;
      }
    }
    kill(child, signal);
  };
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    deliver("SIGKILL");
  }, options.timeoutMs);
  const listeners = (options.forward ?? []).map((signal) => {
    const listener = () => {
      forwarded = signal;
      deliver(signal);
    };
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  try {
    const status = await child.status;
    exited = true;
    if (collected !== undefined) {
      const [stdout, stderr] = await collected;
      capture?.collect(stdout, stderr);
    }
    return { code: status.code, timedOut, forwarded };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (lastResort !== undefined) clearTimeout(lastResort);
    for (const { signal, listener } of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  }
}

/** Result of {@linkcode runCaptured}. */
export interface CapturedResult {
  /** Exit code; 128 + N when the child died of signal N. */
  code: number;
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard error, decoded as UTF-8. */
  stderr: string;
}

/**
 * Runs a helper tool with its output captured, for probes, version queries
 * and credential helpers. stdin is closed, or carries `input` when given (a
 * child that exits without reading it is not an error). A program that
 * cannot be started is reported as exit 127 with the reason in `stderr`.
 */
export async function runCaptured(
  argv: readonly string[],
  env: Record<string, string>,
  input?: string,
): Promise<CapturedResult> {
  let child: Deno.ChildProcess;
  try {
    child = spawnAllowed(argv, env, {
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${argv[0]}: not found` };
    }
    throw error;
  }
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/**
 * {@linkcode runCaptured}, synchronously and without input: for a tiny
 * helper that a synchronous step needs (`mount_point.ts`).
 */
export function runCapturedSync(
  argv: readonly string[],
  env: Record<string, string>,
): CapturedResult {
  const { program, command } = commandOf(argv, env, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let out: Deno.CommandOutput;
  try {
    out = command.outputSync();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${program}: not found` };
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Writes `input` to a child's stdin and closes it; a child that exits
 * without reading it all is not an error. */
async function feed(
  stdin: WritableStream<Uint8Array>,
  input: Uint8Array,
): Promise<void> {
  const writer = stdin.getWriter();
  await writer.write(input).catch(() => {});
  await writer.close().catch(() => {});
}

/** How a child's stdio is set, and whether it gets a session of its own. */
type Stdio = Pick<
  Deno.CommandOptions,
  "stdin" | "stdout" | "stderr" | "detached"
>;

/**
 * The command for `argv`, with exactly `env` (`clearEnv`) and `stdio`.
 *
 * @throws {TypeError} for an empty argv.
 */
function commandOf(
  argv: readonly string[],
  env: Record<string, string>,
  stdio: Stdio,
): { program: string; command: Deno.Command } {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("Cannot run an empty argv");
  return {
    program,
    command: new Deno.Command(program, {
      ...stdio,
      args,
      env,
      clearEnv: true,
    }),
  };
}

/**
 * Starts `argv` (see {@linkcode commandOf}), turning Deno's refusal to run
 * it (`NotCapable`: the binary's `--allow-run` list holds the programs
 * found on PATH when polythene started) into one clear line instead of an
 * internal error.
 */
function spawnAllowed(
  argv: readonly string[],
  env: Record<string, string>,
  stdio: Stdio,
): Deno.ChildProcess {
  const { program, command } = commandOf(argv, env, stdio);
  try {
    return command.spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    throw new PolytheneError(
      `Cannot run "${program}": polythene may start only the programs it found on PATH when it started`,
      {
        exitCode: 1,
        cause: error,
        hint:
          "keep PATH the same from start to end, with the program in one of its directories (a relative entry counts from the working directory)",
      },
    );
  }
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited: nothing left to signal.
  }
}

/** A child whose stdout is read as a stream. */
export interface PipedChild {
  /** The child's stdout. */
  stdout: ReadableStream<Uint8Array>;
  /** Resolves when it exits, with its code and the tail of its stderr. */
  done: Promise<{ code: number; stderr: string }>;
  /** Sends `signal` to the child (ignored once it has exited). */
  kill(signal: Deno.Signal): void;
}

/**
 * Starts `argv` with stdin closed, stdout as a stream and stderr captured
 * (its last 4 KiB are kept for error messages).
 *
 * @throws {Deno.errors.NotFound} when the program does not exist.
 */
export function spawnPiped(
  argv: readonly string[],
  env: Record<string, string>,
): PipedChild {
  const child = spawnAllowed(argv, env, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const stderr = tail(child.stderr, 4096);
  return {
    stdout: child.stdout,
    done: Promise.all([child.status, stderr]).then(([status, text]) => ({
      code: status.code,
      stderr: text,
    })),
    kill: (signal) => kill(child, signal),
  };
}

async function tail(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<string> {
  let kept = new Uint8Array();
  for await (const chunk of stream) {
    const joined = new Uint8Array(kept.length + chunk.length);
    joined.set(kept);
    joined.set(chunk, kept.length);
    kept = joined.length > limit ? joined.slice(joined.length - limit) : joined;
  }
  return new TextDecoder().decode(kept);
}

/** A watcher started by {@linkcode spawnWatcher}. */
export interface Watcher {
  /**
   * Tells the watcher that polythene ends normally (writes `done` and
   * closes its stdin), and waits for it to exit.
   */
  release(): Promise<void>;
}

/**
 * Starts `argv` in a session of its own, with stdout and stderr on
 * `/dev/null` and stdin a pipe that only {@linkcode Watcher.release} writes
 * to: if polythene dies first, even by SIGKILL, the kernel closes the pipe
 * and the watcher reads end-of-file instead of `done`.
 */
export function spawnWatcher(
  argv: readonly string[],
  env: Record<string, string>,
): Watcher {
  const child = spawnAllowed(argv, env, {
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    detached: true,
  });
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        await feed(child.stdin, new TextEncoder().encode("done\n"));
        await child.status;
      })();
      return released;
    },
  };
}
