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
export type OptionValues = Record<
  string,
  string | boolean | string[] | undefined
>;

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
  const [before, after] = splitCommand(spec, argv);
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
  if (extra !== undefined && spec.positionals.at(-1)?.variadic !== true) {
    throw new UsageError(`Unexpected argument "${extra}"`, spec.name);
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

/**
 * Splits argv into polythene's own part and the command. The command starts
 * after the first `--` or, as in the Python original, at the first word
 * after the command's positionals (so `exec UUID ls -la` works too).
 */
function splitCommand(
  spec: CommandSpec,
  argv: string[],
): [string[], string[] | undefined] {
  const dashes = argv.indexOf("--");
  const head = dashes === -1 ? argv : argv.slice(0, dashes);
  if (spec.rest !== undefined) {
    const start = restStart(spec, head);
    if (start !== undefined) {
      return [
        head.slice(0, start),
        argv.slice(start).filter((word, i) =>
          !(i === dashes - start && word === "--")
        ),
      ];
    }
  }
  return [head, dashes === -1 ? undefined : argv.slice(dashes + 1)];
}

function restStart(spec: CommandSpec, head: string[]): number | undefined {
  const { tokens } = parseArgs({
    args: head,
    options: optionConfig(spec.options),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals = tokens.filter((t) => t.kind === "positional");
  return positionals[spec.positionals.length]?.index;
}

function optionConfig(
  options: readonly OptionSpec[],
): Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
> {
  const config: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const o of options) {
    config[o.name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  return config;
}

function runParseArgs(
  args: string[],
  options: readonly OptionSpec[],
  command: string | undefined,
): { values: OptionValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: optionConfig(options),
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
): string | boolean | string[] | undefined {
  let value = given[option.name];
  if (option.multiple) return value ?? [];
  let source = `--${option.name}`;
  if (value === "") {
    throw new UsageError(
      `Option --${option.name} needs a non-empty value`,
      command,
    );
  }
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
  const ambiguous =
    /^Option '(-\w)(?:, (--[\w-]+))?[^']*' argument is ambiguous/
      .exec(message);
  if (ambiguous) {
    return `Option ${ambiguous[1]} needs a value; a value starting with "-" ` +
      `must be attached, as in ${ambiguous[1]}-VALUE`;
  }
  const end = message.search(/\.\s/);
  return end === -1 ? message : message.slice(0, end);
}
