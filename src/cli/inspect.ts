/**
 * `polythene inspect UUID [--json]`: everything known about one entry.
 * Never locks. Fields come from the image, so control characters in them are
 * escaped (`escape.ts`).
 *
 * @module
 */

import { escapeControl, escapeJson } from "../escape.ts";
import { inspectEntry } from "../store/entries.ts";
import { humanSize, shortTime } from "./format.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/** Runs `inspect`; returns the exit code. */
export async function inspectCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  const store = stringValue(values, "store");
  const uuid = positionals[0]!;
  const info = await inspectEntry(store, uuid);
  if (values.json === true) {
    console.log(escapeJson(JSON.stringify({ schema: 1, ...info }, null, 2)));
    return 0;
  }
  const config = info.config ?? {};
  const rows: [string, string | undefined][] = [
    ["uuid", info.uuid],
    ["kind", info.kind],
    ["path", info.path],
    ["image", info.image ?? "-"],
    ["normalized", info.normalized ?? undefined],
    ["digest", info.digest ?? "-"],
    ["platform", info.platform ?? "-"],
    ["puller", info.puller ?? "-"],
    ["created", shortTime(info.created)],
    ["modified", shortTime(info.modified)],
    [
      "size",
      info.size === null ? "-" : `${humanSize(info.size)} (${info.size} bytes)`,
    ],
    ["parent", info.parent ?? undefined],
    ["ephemeral", info.ephemeral ? "yes" : undefined],
    ["env", config.Env?.join(" ")],
    ["workdir", config.WorkingDir],
    ["user", config.User],
    [
      "entrypoint",
      config.Entrypoint ? JSON.stringify(config.Entrypoint) : undefined,
    ],
    ["cmd", config.Cmd ? JSON.stringify(config.Cmd) : undefined],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length));
  for (const [key, value] of shown) {
    console.log(`${key.padEnd(width)}  ${escapeControl(value)}`);
  }
  return 0;
}
