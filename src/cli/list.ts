/**
 * `polythene list [--json]` (alias `ls`): one row per entry. Never locks.
 * Image names come from metadata files, so control characters in cells are
 * escaped (`escape.ts`).
 *
 * @module
 */

import { escapeControl, escapeJson } from "../escape.ts";
import { listStore } from "../store/entries.ts";
import { formatTable, humanSize, shortDigest, shortTime } from "./format.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/** Runs `list`; returns the exit code. */
export async function listCommand(values: OptionValues): Promise<number> {
  const store = stringValue(values, "store");
  const entries = await listStore(store);
  if (values.json === true) {
    console.log(
      escapeJson(JSON.stringify({ schema: 1, store, entries }, null, 2)),
    );
    return 0;
  }
  console.log(formatTable(
    [
      "UUID",
      "IMAGE",
      "REFERENCE",
      "DIGEST",
      "PLATFORM",
      "CREATED",
      "SIZE",
      "BACKEND",
      "KIND",
    ],
    entries.map((e) =>
      [
        e.uuid,
        e.image ?? "-",
        e.normalized ?? "-",
        shortDigest(e.digest),
        e.platform ?? "-",
        shortTime(e.created ?? e.modified),
        humanSize(e.size),
        e.lastBackend ?? "-",
        e.parent ? `clone of ${e.parent}` : e.kind,
      ].map(escapeControl)
    ),
    ["SIZE"],
  ));
  return 0;
}
