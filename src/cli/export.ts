/**
 * `polythene export IMAGE DEST --format FORMAT`: writes a committed image
 * (or its root filesystem) to DEST.
 *
 * @module
 */

import { type ExportFormat, exportImage } from "../image/export/export.ts";
import type { OptionValues } from "./parse.ts";
import { stringValue } from "./values.ts";

/** Runs `export`; returns the exit code. */
export async function exportCommand(
  values: OptionValues,
  positionals: string[],
): Promise<number> {
  await exportImage(
    stringValue(values, "store"),
    positionals[0]!,
    stringValue(values, "format") as ExportFormat,
    positionals[1]!,
  );
  return 0;
}
