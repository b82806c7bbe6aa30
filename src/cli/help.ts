/**
 * Help text, rendered from the command table. Pure.
 *
 * @module
 */

import {
  COMMANDS,
  type CommandSpec,
  type OptionSpec,
  ROOT_OPTIONS,
} from "./table.ts";

/** The help for `polythene` itself: usage and the list of commands. */
export function rootHelp(): string {
  const names = COMMANDS.map((c) =>
    c.aliases?.length ? `${c.name} (${c.aliases.join(", ")})` : c.name
  );
  const width = Math.max(...names.map((n) => n.length));
  const lines = [
    "polythene: stage root filesystems and run commands in them without a container engine",
    "",
    "Usage: polythene COMMAND [options] ...",
    "       polythene --version | --help",
    "",
    "Commands:",
    ...COMMANDS.map((c, i) => `  ${names[i]!.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    ...optionLines(ROOT_OPTIONS),
    "",
    'Run "polythene COMMAND --help" for the options of one command.',
  ];
  return lines.join("\n") + "\n";
}

/** The help for one subcommand. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, "", spec.summary];
  if (spec.description) lines.push("", spec.description);
  const args = [...spec.positionals, ...(spec.rest ? [spec.rest] : [])];
  if (args.length > 0) lines.push("", "Arguments:");
  const width = Math.max(...args.map((a) => a.name.length));
  for (const a of args) lines.push(`  ${a.name.padEnd(width)}  ${a.help}`);
  lines.push("", "Options:", ...optionLines(spec.options));
  return lines.join("\n") + "\n";
}

/** `polythene NAME [options] POSITIONALS [-- REST]`. */
export function usageLine(spec: CommandSpec): string {
  const words = ["polythene", spec.name, "[options]"];
  words.push(
    ...spec.positionals.map((p) =>
      p.variadic ? `${p.name}...` : p.optional ? `[${p.name}]` : p.name
    ),
  );
  if (spec.rest) words.push("--", spec.rest.name);
  return words.join(" ");
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const heads = options.map((o) => {
    const short = o.short ? `-${o.short}, ` : "    ";
    const value = o.type === "string" ? ` ${o.metavar ?? "VALUE"}` : "";
    return `  ${short}--${o.name}${value}`;
  });
  const width = Math.max(...heads.map((h) => h.length));
  return options.map((o, i) => {
    const extras: string[] = [];
    if (o.env) extras.push(`env ${o.env}`);
    if (o.default !== undefined) extras.push(`default ${o.default}`);
    const suffix = extras.length ? ` (${extras.join("; ")})` : "";
    return `${heads[i]!.padEnd(width)}  ${o.help}${suffix}`;
  });
}
