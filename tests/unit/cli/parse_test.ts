import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { parseCommandLine } from "../../../src/cli/parse.ts";
import { UsageError } from "../../../src/errors.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("exec takes the UUID before -- and the command after it", () => {
  const parsed = parseCommandLine(
    ["exec", "abc", "--", "sh", "-c", "echo --x"],
    noEnv,
  );
  assertEquals(parsed.kind, "run");
  if (parsed.kind !== "run") return;
  assertEquals(parsed.positionals, ["abc"]);
  assertEquals(parsed.rest, ["sh", "-c", "echo --x"]);
  assertEquals(parsed.values.store, "/var/tmp/polythene");
  assertEquals(parsed.values.verbose, false);
  assertEquals(parsed.values.isolation, undefined);
});

Deno.test("options after -- belong to the command, not to polythene", () => {
  const parsed = parseCommandLine(
    ["exec", "-s", "/s", "u", "--", "ls", "--help", "-v"],
    noEnv,
  );
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.values.store, "/s");
  assertEquals(parsed.values.verbose, false);
  assertEquals(parsed.rest, ["ls", "--help", "-v"]);
});

Deno.test("a second -- is part of the command", () => {
  const parsed = parseCommandLine(["exec", "u", "--", "a", "--", "b"], noEnv);
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.rest, ["a", "--", "b"]);
});

Deno.test("as in the original, the command may also follow the UUID directly", () => {
  const cases: [string[], string[], string][] = [
    [["exec", "u", "ls", "-la"], ["ls", "-la"], "/var/tmp/polythene"],
    [
      ["exec", "-s", "/s", "u", "ls", "--store", "x"],
      ["ls", "--store", "x"],
      "/s",
    ],
    [["exec", "u", "ls", "--", "-x"], ["ls", "-x"], "/var/tmp/polythene"],
    [
      ["exec", "u", "--", "ls", "--", "-x"],
      ["ls", "--", "-x"],
      "/var/tmp/polythene",
    ],
  ];
  for (const [argv, rest, store] of cases) {
    const parsed = parseCommandLine(argv, noEnv);
    if (parsed.kind !== "run") throw new Error("expected run");
    assertEquals(parsed.positionals, ["u"]);
    assertEquals(parsed.rest, rest, argv.join(" "));
    assertEquals(parsed.values.store, store);
  }
});

Deno.test("short and long options and the = form are accepted", () => {
  const parsed = parseCommandLine(
    ["exec", "--store=/a", "-t", "5", "-i", "proot", "-v", "u", "--", "x"],
    noEnv,
  );
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.values.store, "/a");
  assertEquals(parsed.values.timeout, "5");
  assertEquals(parsed.values.isolation, "proot");
  assertEquals(parsed.values.verbose, true);
});

Deno.test("the command line wins over env, env over the default", () => {
  const env = envOf({
    POLYTHENE_STORE: "/from-env",
    POLYTHENE_ISOLATION: "chroot",
    POLYTHENE_VERBOSE: "yes",
  });
  const fromEnv = parseCommandLine(["exec", "u", "--", "x"], env);
  if (fromEnv.kind !== "run") throw new Error("expected run");
  assertEquals(fromEnv.values.store, "/from-env");
  assertEquals(fromEnv.values.isolation, "chroot");
  assertEquals(fromEnv.values.verbose, true);
  const fromFlag = parseCommandLine(
    ["exec", "-s", "/flag", "-i", "proot", "u", "--", "x"],
    env,
  );
  if (fromFlag.kind !== "run") throw new Error("expected run");
  assertEquals(fromFlag.values.store, "/flag");
  assertEquals(fromFlag.values.isolation, "proot");
});

Deno.test("an empty env variable counts as unset", () => {
  const parsed = parseCommandLine(
    ["exec", "u", "--", "x"],
    envOf({ POLYTHENE_STORE: "", POLYTHENE_VERBOSE: "" }),
  );
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.values.store, "/var/tmp/polythene");
  assertEquals(parsed.values.verbose, false);
});

Deno.test("--help and --version are recognised", () => {
  assertEquals(parseCommandLine(["--help"], noEnv), { kind: "help" });
  assertEquals(parseCommandLine(["-h"], noEnv), { kind: "help" });
  assertEquals(parseCommandLine(["--version"], noEnv), { kind: "version" });
  assertEquals(parseCommandLine(["exec", "--help"], noEnv), {
    kind: "help",
    command: "exec",
  });
  assertEquals(parseCommandLine(["exec", "u", "-h", "--", "x"], noEnv), {
    kind: "help",
    command: "exec",
  });
});

Deno.test("usage errors name the problem and the command", () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing command/],
    [["frobnicate"], /Unknown command "frobnicate"/],
    [["--frob"], /Unknown option '--frob'/],
    [["exec"], /Missing UUID/],
    [["exec", "u"], /Missing command: give it after --/],
    [["exec", "u", "--"], /Missing command/],
    [["exec", "--bogus", "u", "--", "x"], /Unknown option '--bogus'/],
    [
      ["exec", "-i", "docker", "u", "--", "x"],
      /Invalid value "docker" for --isolation/,
    ],
    [["exec", "-s"], /argument missing/],
  ];
  for (const [argv, message] of cases) {
    const error = assertThrows(
      () => parseCommandLine(argv, noEnv),
      UsageError,
    );
    assertEquals(
      message.test(error.message),
      true,
      `${argv}: ${error.message}`,
    );
    assertEquals(error.exitCode, 2);
  }
});

Deno.test("an invalid POLYTHENE_ISOLATION names the variable", () => {
  const error = assertThrows(
    () =>
      parseCommandLine(
        ["exec", "u", "--", "x"],
        envOf({ POLYTHENE_ISOLATION: "lxc" }),
      ),
    UsageError,
  );
  assertEquals(
    error.message,
    'Invalid value "lxc" for POLYTHENE_ISOLATION: expected one of bubblewrap, proot, chroot',
  );
});
