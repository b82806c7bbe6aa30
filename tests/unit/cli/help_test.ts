import {
  assertEquals,
  assertIncludes,
  assertThrows,
} from "../../helpers/assert.ts";
import { commandHelp, rootHelp, usageLine } from "../../../src/cli/help.ts";
import { COMMANDS, findCommand } from "../../../src/cli/table.ts";
import { timeoutSeconds } from "../../../src/cli/values.ts";
import { UsageError } from "../../../src/errors.ts";

Deno.test("root help lists every command of the table", () => {
  const help = rootHelp();
  for (const command of COMMANDS) assertIncludes(help, `  ${command.name}`);
  assertIncludes(help, "--version");
});

Deno.test("exec help shows usage, every option, env bindings and defaults", () => {
  const exec = findCommand("exec")!;
  assertEquals(
    usageLine(exec),
    "polythene exec [options] UUID -- CMD [ARG...]",
  );
  const help = commandHelp(exec);
  for (
    const part of [
      "-s, --store DIR",
      "env POLYTHENE_STORE; default /var/tmp/polythene",
      "-t, --timeout SECONDS",
      "-i, --isolation NAME",
      "env POLYTHENE_ISOLATION",
      "-v, --verbose",
      "env POLYTHENE_VERBOSE",
      "-h, --help",
    ]
  ) {
    assertIncludes(help, part);
  }
});

Deno.test("--timeout takes a positive number of seconds", () => {
  assertEquals(timeoutSeconds({}, "exec"), undefined);
  assertEquals(timeoutSeconds({ timeout: "2.5" }, "exec"), 2.5);
  for (const bad of ["0", "-1", "abc", "", "Infinity", "1e999"]) {
    const error = assertThrows(
      () => timeoutSeconds({ timeout: bad }, "exec"),
      UsageError,
    );
    assertIncludes(error.message, "expected a positive number of seconds");
  }
});
