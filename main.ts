/**
 * polythene: stage root filesystems and run commands in them without a
 * container engine.
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
