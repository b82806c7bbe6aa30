/**
 * Turns argv into a parsed command, driven by the table in `table.ts`.
 * Pure: the environment is passed in, nothing is printed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import {
  type CommandSpec,
  findCommand,
  type OptionSpec,
  ROOT_OPTIONS,
} from "./table.ts";

/** Option values after applying the command line, then env, then defaults. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** What the command line asks for. */
export type Parsed =
  | { kind: "help"; command?: string }
  | { kind: "version" }
  | {
    kind: "run";
    command: string;
    values: OptionValues;
    positionals: string[];
    rest: string[];
  };

/** The environment as a plain lookup, so parsing stays pure. */
export type EnvLookup = (name: string) => string | undefined;

/**
 * Parses the whole argv (without the program name).
 *
 * @throws {UsageError} on anything the table does not allow.
 */
export function parseCommandLine(argv: string[], env: EnvLookup): Parsed {
  const [first, ...tail] = argv;
  if (first === undefined) throw new UsageError("Missing command");
  if (first.startsWith("-")) return parseRoot(argv);
  const spec = findCommand(first);
  if (spec === undefined) {
    throw new UsageError(`Unknown command "${first}"`);
  }
  return parseSubcommand(spec, tail, env);
}

function parseRoot(argv: string[]): Parsed {
  const { values } = runParseArgs(argv, ROOT_OPTIONS, undefined);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  throw new UsageError("Missing command");
}

function parseSubcommand(
  spec: CommandSpec,
  argv: string[],
  env: EnvLookup,
): Parsed {
  const dashes = argv.indexOf("--");
  const before = dashes === -1 ? argv : argv.slice(0, dashes);
  const after = dashes === -1 ? undefined : argv.slice(dashes + 1);
  const parsed = runParseArgs(before, spec.options, spec.name);
  if (parsed.values.help) return { kind: "help", command: spec.name };

  const values: OptionValues = {};
  for (const option of spec.options) {
    if (option.name === "help") continue;
    values[option.name] = resolveValue(option, parsed.values, env, spec.name);
  }
  const positionals = parsed.positionals;
  const missing = spec.positionals[positionals.length];
  if (missing !== undefined) {
    throw new UsageError(`Missing ${missing.name}`, spec.name);
  }
  const extra = positionals[spec.positionals.length];
  if (extra !== undefined) {
    const where = spec.rest ? "; put the command after --" : "";
    throw new UsageError(`Unexpected argument "${extra}"${where}`, spec.name);
  }
  if (spec.rest !== undefined && (after === undefined || after.length === 0)) {
    throw new UsageError(
      `Missing command: give it after --, as in "polythene ${spec.name} ${
        spec.positionals.map((p) => p.name).join(" ")
      } -- ${spec.rest.name}"`,
      spec.name,
    );
  }
  if (spec.rest === undefined && after !== undefined) {
    throw new UsageError(`"${spec.name}" takes no command after --`, spec.name);
  }
  return {
    kind: "run",
    command: spec.name,
    values,
    positionals,
    rest: after ?? [],
  };
}

function runParseArgs(
  args: string[],
  options: readonly OptionSpec[],
  command: string | undefined,
): { values: OptionValues; positionals: string[] } {
  const config: Record<
    string,
    { type: "string" | "boolean"; short?: string }
  > = {};
  for (const o of options) {
    config[o.name] = o.short
      ? { type: o.type, short: o.short }
      : { type: o.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options: config,
      strict: true,
      allowPositionals: command !== undefined,
    });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    throw new UsageError(firstSentence(error), command);
  }
}

function resolveValue(
  option: OptionSpec,
  given: OptionValues,
  env: EnvLookup,
  command: string,
): string | boolean | undefined {
  let value = given[option.name];
  let source = `--${option.name}`;
  if (value === undefined && option.env !== undefined) {
    const fromEnv = env(option.env);
    if (fromEnv !== undefined && fromEnv !== "") {
      value = option.type === "boolean" ? true : fromEnv;
      source = option.env;
    }
  }
  if (value === undefined) value = option.default;
  if (value === undefined && option.type === "boolean") value = false;
  if (
    typeof value === "string" && option.choices !== undefined &&
    !option.choices.includes(value)
  ) {
    throw new UsageError(
      `Invalid value "${value}" for ${source}: expected one of ${
        option.choices.join(", ")
      }`,
      command,
    );
  }
  return value;
}

function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const end = message.search(/\.\s/);
  return end === -1 ? message : message.slice(0, end);
}
