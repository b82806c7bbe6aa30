/**
 * Turns argv into a parsed command, driven by the table in `table.ts`.
 * Pure: the environment is passed in, nothing is printed. Our own small
 * scanner, not `node:util`'s `parseArgs`: it is on `exec`'s start-up path,
 * and the rules below are ours.
 *
 * - `--name VALUE`, `--name=VALUE`, `-n VALUE`, `-nVALUE`; a value option
 *   takes the next word whatever it starts with, so `-u -1` reaches the
 *   option's own check ("out of range"), not a parser puzzle.
 * - Flags: `--flag`, `--flag=true|false`, and bundles such as `-qv`.
 * - The global options (`--store`, `--verbose`) may also come before the
 *   command, as in `polythene -s DIR list`.
 * - `--` ends the options.
 * - For `exec`, everything after the UUID is the command, exactly as given;
 *   a `--` is a separator only where the command would start.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { isTrue } from "../log.ts";
import {
  type CommandSpec,
  findCommand,
  GLOBAL_OPTIONS,
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

/** Given option values, by option name, before env and defaults. */
type Given = Map<string, string | boolean | string[]>;

/**
 * Parses the whole argv (without the program name).
 *
 * @throws {UsageError} on anything the table does not allow.
 */
export function parseCommandLine(argv: string[], env: EnvLookup): Parsed {
  const globals: Given = new Map();
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-") && argv[i] !== "--") {
    i = takeOption(argv, i, [...ROOT_OPTIONS, ...GLOBAL_OPTIONS], globals);
  }
  if (globals.get("help") === true) return { kind: "help" };
  if (globals.get("version") === true) return { kind: "version" };
  const first = argv[i] === "--" ? argv[++i] : argv[i];
  if (first === undefined) throw new UsageError("Missing command");
  const spec = findCommand(first);
  if (spec === undefined) throw new UsageError(`Unknown command "${first}"`);
  for (const name of globals.keys()) {
    if (!spec.options.some((o) => o.name === name)) {
      throw new UsageError(
        `Option --${name} does not apply to "${spec.name}"`,
        spec.name,
      );
    }
  }
  return parseSubcommand(spec, argv.slice(i + 1), env, globals);
}

function parseSubcommand(
  spec: CommandSpec,
  argv: string[],
  env: EnvLookup,
  given: Given,
): Parsed {
  const positionals: string[] = [];
  let rest: string[] | undefined;
  let optionsEnded = false;
  let i = 0;
  while (i < argv.length) {
    const word = argv[i]!;
    if (
      spec.rest !== undefined && positionals.length === spec.positionals.length
    ) {
      rest = word === "--" && !optionsEnded ? argv.slice(i + 1) : argv.slice(i);
      break;
    }
    if (!optionsEnded && word === "--") {
      optionsEnded = true;
      i++;
    } else if (!optionsEnded && word.startsWith("-") && word !== "-") {
      i = takeOption(argv, i, spec.options, given, spec.name);
    } else {
      positionals.push(word);
      i++;
    }
  }
  if (given.get("help") === true) return { kind: "help", command: spec.name };

  const values: OptionValues = {};
  for (const option of spec.options) {
    if (option.name === "help") continue;
    values[option.name] = resolveValue(option, given, env, spec.name);
  }
  const missing = spec.positionals[positionals.length];
  if (missing !== undefined && missing.optional !== true) {
    throw new UsageError(`Missing ${missing.name}`, spec.name);
  }
  const extra = positionals[spec.positionals.length];
  if (extra !== undefined && spec.positionals.at(-1)?.variadic !== true) {
    throw new UsageError(`Unexpected argument "${extra}"`, spec.name);
  }
  if (spec.rest !== undefined) {
    if (rest === undefined || rest.length === 0) {
      throw new UsageError(
        `Missing command: give it after the ${
          spec.positionals.map((p) => p.name).join(" ")
        }, as in "polythene ${spec.name} ${
          spec.positionals.map((p) => p.name).join(" ")
        } -- ${spec.rest.name}"`,
        spec.name,
      );
    }
    const program = rest[0]!;
    if (program.startsWith("-")) {
      throw new UsageError(
        `Invalid command "${program}": polythene's options go before the ${
          spec.positionals.map((p) => p.name).join(" ")
        }, and a program name cannot start with "-"`,
        spec.name,
      );
    }
  }
  return {
    kind: "run",
    command: spec.name,
    values,
    positionals,
    rest: rest ?? [],
  };
}

/**
 * Reads the option at `argv[i]` (and its value) into `given`.
 *
 * @returns The index of the next word.
 */
function takeOption(
  argv: string[],
  i: number,
  options: readonly OptionSpec[],
  given: Given,
  command?: string,
): number {
  const word = argv[i]!;
  if (word.startsWith("--")) {
    const eq = word.indexOf("=");
    const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
    const option = options.find((o) => o.name === name);
    if (option === undefined) {
      throw new UsageError(`Unknown option "--${name}"`, command);
    }
    if (option.type === "boolean") {
      if (eq !== -1) {
        store(given, option, flagValue(option, word.slice(eq + 1), command));
        return i + 1;
      }
      const next = argv[i + 1];
      if (next === "true" || next === "false") {
        throw new UsageError(
          `Option --${name} is a flag: write --${name}=${next}, with "="`,
          command,
        );
      }
      store(given, option, true);
      return i + 1;
    }
    if (eq !== -1) {
      store(given, option, word.slice(eq + 1));
      return i + 1;
    }
    return i + 1 + storeNext(argv, i, option, given, `--${name}`, command);
  }
  // A bundle of short options: flags, then at most one that takes a value.
  for (let j = 1; j < word.length; j++) {
    const letter = word[j]!;
    const option = options.find((o) => o.short === letter);
    if (option === undefined) {
      throw new UsageError(`Unknown option "-${letter}"`, command);
    }
    if (option.type === "boolean") {
      store(given, option, true);
      continue;
    }
    const attached = word.slice(j + 1);
    if (attached !== "") {
      store(given, option, attached);
      return i + 1;
    }
    return i + 1 + storeNext(argv, i, option, given, `-${letter}`, command);
  }
  return i + 1;
}

function storeNext(
  argv: string[],
  i: number,
  option: OptionSpec,
  given: Given,
  spelled: string,
  command: string | undefined,
): number {
  const value = argv[i + 1];
  if (value === undefined) {
    throw new UsageError(
      `Option ${spelled} needs a value (${option.metavar ?? "VALUE"})`,
      command,
    );
  }
  store(given, option, value);
  return 1;
}

function store(given: Given, option: OptionSpec, value: string | boolean) {
  if (option.multiple) {
    const list = given.get(option.name);
    given.set(option.name, [
      ...(Array.isArray(list) ? list : []),
      String(value),
    ]);
  } else {
    given.set(option.name, value);
  }
}

/**
 * A flag's value from the environment or `--flag=VALUE`: `1`, `true`,
 * `yes`, `on` are true; `0`, `false`, `no`, `off` are false. Pure.
 *
 * @throws {UsageError} for anything else.
 */
export function flagValue(
  option: OptionSpec,
  text: string,
  command: string | undefined,
  source = `--${option.name}`,
): boolean {
  if (isTrue(text)) return true;
  if (["0", "false", "no", "off"].includes(text.toLowerCase())) return false;
  throw new UsageError(
    `Invalid value "${text}" for ${source}: expected true or false (or 1, 0)`,
    command,
  );
}

function resolveValue(
  option: OptionSpec,
  given: Given,
  env: EnvLookup,
  command: string,
): string | boolean | string[] | undefined {
  let value = given.get(option.name);
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
      value = option.type === "boolean"
        ? flagValue(option, fromEnv, command, option.env)
        : fromEnv;
      source = option.env;
    }
  }
  if (value === undefined && option.type === "boolean") {
    return option.default === "true";
  }
  if (value === undefined) value = option.default;
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
