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
    [["exec", "u", "ls", "--", "-x"], ["ls", "--", "-x"], "/var/tmp/polythene"],
    [
      ["exec", "u", "echo", "a", "--", "b"],
      ["echo", "a", "--", "b"],
      "/var/tmp/polythene",
    ],
    [
      ["exec", "u", "sh", "-c", 'echo "$@"', "x", "--", "y"],
      ["sh", "-c", 'echo "$@"', "x", "--", "y"],
      "/var/tmp/polythene",
    ],
    [
      ["exec", "--", "u", "ls", "--", "-x"],
      ["ls", "--", "-x"],
      "/var/tmp/polythene",
    ],
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
  assertEquals(parseCommandLine(["exec", "-h", "u", "--", "x"], noEnv), {
    kind: "help",
    command: "exec",
  });
});

Deno.test("usage errors name the problem and the command", () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing command/],
    [["frobnicate"], /Unknown command "frobnicate"/],
    [["--frob"], /Unknown option "--frob"/],
    [
      ["-s", "/s", "completions", "bash"],
      /--store does not apply to "completions"/,
    ],
    [
      ["exec", "u", "-w", "/tmp", "pwd"],
      /Invalid command "-w": polythene's options go before the UUID/,
    ],
    [["exec", "u", "-h", "--", "x"], /Invalid command "-h"/],
    [
      ["pull", "--tls-verify", "false", "img"],
      /--tls-verify is a flag: write --tls-verify=false/,
    ],
    [
      ["pull", "--tls-verify=maybe", "img"],
      /Invalid value "maybe" for --tls-verify/,
    ],
    [["exec", "-s", "/s", "-t"], /Option -t needs a value \(SECONDS\)/],
    [["exec"], /Missing UUID/],
    [["exec", "u"], /Missing command: give it after the UUID/],
    [["exec", "u", "--"], /Missing command/],
    [["exec", "--bogus", "u", "--", "x"], /Unknown option "--bogus"/],
    [
      ["exec", "-i", "docker", "u", "--", "x"],
      /Invalid value "docker" for --isolation/,
    ],
    [["exec", "-s"], /Option -s needs a value \(DIR\)/],
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

Deno.test("global options may come before the command", () => {
  const parsed = parseCommandLine(["-s", "/g", "-v", "list", "--json"], noEnv);
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.command, "list");
  assertEquals(parsed.values.store, "/g");
  assertEquals(parsed.values.verbose, true);
  assertEquals(parsed.values.json, true);
  const later = parseCommandLine(["--store=/g", "rm", "-s", "/h", "a"], noEnv);
  if (later.kind !== "run") throw new Error("expected run");
  assertEquals(later.values.store, "/h");
  assertEquals(later.positionals, ["a"]);
});

Deno.test("a value option takes the next word, even one starting with -", () => {
  const parsed = parseCommandLine(
    ["exec", "-u", "-1", "-t", "-1", "-e", "-x", "u", "true"],
    noEnv,
  );
  if (parsed.kind !== "run") throw new Error("expected run");
  assertEquals(parsed.values.user, "-1");
  assertEquals(parsed.values.timeout, "-1");
  assertEquals(parsed.values.env, ["-x"]);
  const attached = parseCommandLine(["exec", "-vt5", "u", "true"], noEnv);
  if (attached.kind !== "run") throw new Error("expected run");
  assertEquals(attached.values.verbose, true);
  assertEquals(attached.values.timeout, "5");
});

Deno.test("--tls-verify is a flag: bare means true, =false means false", () => {
  const cases: [string[], boolean][] = [
    [["pull", "img"], true],
    [["pull", "--tls-verify", "img"], true],
    [["pull", "--tls-verify=true", "img"], true],
    [["pull", "--tls-verify=false", "img"], false],
  ];
  for (const [argv, expected] of cases) {
    const parsed = parseCommandLine(argv, noEnv);
    if (parsed.kind !== "run") throw new Error("expected run");
    assertEquals(parsed.values["tls-verify"], expected, argv.join(" "));
    assertEquals(parsed.positionals, ["img"]);
  }
});

Deno.test("POLYTHENE_VERBOSE=0 and false leave verbose off; junk is an error", () => {
  for (
    const [text, expected] of [["0", false], ["false", false], ["off", false], [
      "1",
      true,
    ], ["TRUE", true]] as const
  ) {
    const parsed = parseCommandLine(
      ["list"],
      envOf({ POLYTHENE_VERBOSE: text }),
    );
    if (parsed.kind !== "run") throw new Error("expected run");
    assertEquals(parsed.values.verbose, expected, text);
  }
  const error = assertThrows(
    () => parseCommandLine(["list"], envOf({ POLYTHENE_VERBOSE: "loud" })),
    UsageError,
  );
  assertEquals(
    error.message,
    'Invalid value "loud" for POLYTHENE_VERBOSE: expected true or false (or 1, 0)',
  );
});
