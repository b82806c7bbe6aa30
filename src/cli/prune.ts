/**
 * `polythene prune [--older-than DURATION] [--all] [--dry-run] [--json]`.
 *
 * @module
 */

import { pruneStore } from "../store/prune.ts";
import { humanSize, parseDuration } from "./format.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/** Runs `prune`; returns the exit code. */
export async function pruneCommand(values: OptionValues): Promise<number> {
  const olderThan = values["older-than"];
  const report = await pruneStore(
    stringValue(values, "store"),
    {
      all: values.all === true,
      olderThanMs: typeof olderThan === "string"
        ? parseDuration(olderThan, "--older-than", "prune")
        : undefined,
      now: Date.now(),
    },
    values["dry-run"] === true,
  );
  if (values.json === true) {
    console.log(JSON.stringify({ schema: 1, ...report }, null, 2));
    return 0;
  }
  const verb = report.dryRun ? "would remove" : "removed";
  for (const entry of report.removed) {
    console.log(
      `${verb} ${entry.uuid}  ${entry.image ?? "-"}  ${humanSize(entry.size)}`,
    );
  }
  for (const uuid of report.busy) console.log(`in use, kept ${uuid}`);
  const bytes = report.removed.reduce((n, e) => n + (e.size ?? 0), 0) +
    report.blobs.bytes;
  console.log(
    `${report.dryRun ? "Would remove" : "Removed"} ${report.removed.length} ` +
      `entr${report.removed.length === 1 ? "y" : "ies"}, ` +
      `${report.staging.length} interrupted pull(s), ` +
      `${report.blobs.removed} unreferenced blob(s), ` +
      `${report.stacks} cached layer stack(s); ` +
      `${humanSize(bytes)} ${report.dryRun ? "would be " : ""}reclaimed` +
      (report.blobs.keptAll
        ? " (blobs kept: an entry does not record which it uses)"
        : ""),
  );
  return 0;
}
