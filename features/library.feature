Feature: Drive polythene from TypeScript
  A Deno test suite imports polythene's module and drives pull and exec with
  no shell-outs of its own. It runs with exactly the permissions baked into
  the compiled binary, so those are proven enough for the library too.

  Background:
    Given an OCI image layout holding a busybox image

  Scenario: A session pulls an image and captures a command's output
    When a TypeScript script runs with the compile permissions:
      """
      import { PolytheneSession } from "<module>";
      const session = new PolytheneSession({ store: "<store>" });
      const uuid = await session.pull("<image>");
      const result = await session.exec(uuid, ["sh", "-c", "echo $GREETING; uname -s"], {
        capture: true,
        env: { GREETING: "hello" },
      });
      console.log("ran", result.code, result.stdout.trim().split("\n").join(","));
      const entries = await session.list();
      console.log(entries.length, entries[0]?.uuid === uuid);
      """
    Then the exit code is 0
    And stdout contains "ran 0 hello,Linux"
    And stdout contains "1 true"

  Scenario: A command run in a throwaway clone, and a typed error
    When a TypeScript script runs with the compile permissions:
      """
      import { PolytheneSession, CommandNotFoundError } from "<module>";
      const session = new PolytheneSession({ store: "<store>" });
      const uuid = await session.pull("<image>");
      const run = await session.exec(uuid, ["touch", "/scratch"], { ephemeral: true });
      console.log("ephemeral", run.code, (await session.list()).length);
      try {
        await session.exec(uuid, ["no-such-program"]);
      } catch (error) {
        if (!(error instanceof CommandNotFoundError)) throw error;
        console.log("not found", error.exitCode);
      }
      """
    Then the exit code is 0
    And stdout contains "ephemeral 0 1"
    And stdout contains "not found 127"
