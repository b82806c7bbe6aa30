/**
 * The command-line entry: parse, dispatch, and turn errors into one line on
 * stderr and an exit code. This is the only place that catches. Messages may
 * quote a registry, an image or a file, so control characters in them are
 * escaped (`escape.ts`) before they reach the terminal.
 *
 * @module
 */

import { escapeControlKeepLines } from "../escape.ts";
import { PolytheneError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { commandHelp, rootHelp, usageLine } from "./help.ts";
import { isTrue } from "../log.ts";
import { parseCommandLine, type Parsed } from "./parse.ts";
import { findCommand } from "./table.ts";
import { loadCommand } from "./command_modules.ts";

/** Runs polythene with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const verbose = args.includes("-v") || args.includes("--verbose") ||
    isTrue(Deno.env.get("POLYTHENE_VERBOSE"));
  try {
    const parsed = parseCommandLine(args, (name) => Deno.env.get(name));
    return await dispatch(parsed);
  } catch (error) {
    return report(error, verbose, findCommand(args[0] ?? "")?.name);
  }
}

async function dispatch(parsed: Parsed): Promise<number> {
  switch (parsed.kind) {
    case "version":
      console.log(`polythene ${VERSION}`);
      return 0;
    case "help": {
      const spec = parsed.command ? findCommand(parsed.command) : undefined;
      console.log((spec ? commandHelp(spec) : rootHelp()).trimEnd());
      return 0;
    }
    case "run":
      switch (parsed.command) {
        case "pull": {
          const { pullCommand } = await loadCommand<
            typeof import("./pull.ts")
          >("pull");
          return await pullCommand(parsed.values, parsed.positionals);
        }
        case "push": {
          const { pushCommand } = await loadCommand<
            typeof import("./push.ts")
          >("push");
          return await pushCommand(parsed.values, parsed.positionals);
        }
        case "run": {
          const { runCommand } = await loadCommand<
            typeof import("./run.ts")
          >("run");
          return await runCommand(
            parsed.values,
            parsed.positionals,
            parsed.rest,
          );
        }
        case "exec": {
          const { execCommand } = await loadCommand<
            typeof import("./exec.ts")
          >("exec");
          return await execCommand(
            parsed.values,
            parsed.positionals,
            parsed.rest,
          );
        }
        case "list": {
          const { listCommand } = await loadCommand<
            typeof import("./list.ts")
          >("list");
          return await listCommand(parsed.values);
        }
        case "inspect": {
          const { inspectCommand } = await loadCommand<
            typeof import("./inspect.ts")
          >("inspect");
          return await inspectCommand(parsed.values, parsed.positionals);
        }
        case "rm": {
          const { rmCommand } = await loadCommand<
            typeof import("./rm.ts")
          >("rm");
          return await rmCommand(parsed.values, parsed.positionals);
        }
        case "prune": {
          const { pruneCommand } = await loadCommand<
            typeof import("./prune.ts")
          >("prune");
          return await pruneCommand(parsed.values);
        }
        case "clone": {
          const { cloneCommand } = await loadCommand<
            typeof import("./clone.ts")
          >("clone");
          return await cloneCommand(parsed.values, parsed.positionals);
        }
        case "commit": {
          const { commitCommand } = await loadCommand<
            typeof import("./commit.ts")
          >("commit");
          return await commitCommand(parsed.values, parsed.positionals);
        }
        case "export": {
          const { exportCommand } = await loadCommand<
            typeof import("./export.ts")
          >("export");
          return await exportCommand(parsed.values, parsed.positionals);
        }
        case "doctor": {
          const { doctorCommand } = await loadCommand<
            typeof import("./doctor.ts")
          >("doctor");
          return await doctorCommand(parsed.values);
        }
        case "completions": {
          const { completionsCommand } = await loadCommand<
            typeof import("./completions.ts")
          >("completions");
          return completionsCommand(parsed.positionals);
        }
      }
      throw new UsageError(`Unknown command "${parsed.command}"`);
  }
}

function report(
  error: unknown,
  verbose: boolean,
  command: string | undefined,
): number {
  if (error instanceof UsageError) {
    const spec = findCommand(error.command ?? command ?? "");
    const usage = spec
      ? `Usage: ${
        usageLine(spec)
      }\nRun "polythene ${spec.name} --help" for more.`
      : 'Usage: polythene COMMAND [options] ...\nRun "polythene --help" for the commands.';
    console.error(
      `polythene: ${escapeControlKeepLines(error.message)}\n${usage}`,
    );
    return error.exitCode;
  }
  if (error instanceof PolytheneError) {
    console.error(`polythene: ${escapeControlKeepLines(error.message)}`);
    if (error.hint) {
      console.error(`hint: ${escapeControlKeepLines(error.hint)}`);
    }
    if (verbose && error.cause !== undefined) printDetails(error.cause);
    return error.exitCode;
  }
  console.error(
    `polythene: internal error: ${
      escapeControlKeepLines(
        error instanceof Error ? error.message : String(error),
      )
    }`,
  );
  if (verbose) printDetails(error);
  else console.error("Run again with --verbose for details.");
  return 70;
}

/**
 * Prints an error's details (stack, cause, properties) for `--verbose`, in
 * colour only when stderr is a terminal and `NO_COLOR` is unset
 * (`Deno.noColor`, which needs no env permission). `Deno.inspect` escapes
 * control characters in strings it quotes, but prints an error's message and
 * stack as they are, so those are escaped first, down the `cause` chain.
 */
function printDetails(value: unknown): void {
  const colors = !Deno.noColor && Deno.stderr.isTerminal();
  escapeErrors(value, new Set());
  console.error(Deno.inspect(value, { colors }));
}

function escapeErrors(value: unknown, seen: Set<unknown>): void {
  if (!(value instanceof Error) || seen.has(value)) return;
  seen.add(value);
  try {
    value.message = escapeControlKeepLines(value.message);
    if (value.stack !== undefined) {
      value.stack = escapeControlKeepLines(value.stack);
    }
  } catch {
    // A read-only property: leave it.
  }
  escapeErrors(value.cause, seen);
  if (value instanceof AggregateError) {
    for (const inner of value.errors) escapeErrors(inner, seen);
  }
}
