import { assertEquals } from "../../helpers/assert.ts";
import {
  isPtyVariable,
  onOwnPty,
  PTY_SCRIPT,
} from "../../../src/backends/pty.ts";
import { which } from "../../../src/process/which.ts";

const SH = which("sh", Deno.env.get("PATH") ?? "/usr/bin:/bin")!.path;

Deno.test("onOwnPty: a constant script, argv and the backend's env in variables", () => {
  const { argv, env } = onOwnPty("/usr/bin/script", SH, ["/bin/bwrap", "a b"], {
    PATH: "/bin",
  });
  assertEquals(argv, [
    "/usr/bin/script",
    "--quiet",
    "--return",
    "--command",
    PTY_SCRIPT,
    "/dev/null",
  ]);
  assertEquals(env, {
    PATH: "/bin",
    SHELL: SH,
    POLYTHENE_ARGC: "2",
    POLYTHENE_ARG_0: "/bin/bwrap",
    POLYTHENE_ARG_1: "a b",
  });
  assertEquals(isPtyVariable("POLYTHENE_ARG_12"), true);
  assertEquals(isPtyVariable("POLYTHENE_STORE"), false);
});

Deno.test("PTY_SCRIPT rebuilds argv exactly and leaves the backend's env as it was", () => {
  // Run the script as `script` would, with `sh -c`, and print what it execs.
  const words = ["", "a b", "$HOME", "'\"", "x\ny", "-n", "*", "\\", "$(id)"];
  const backendEnv = { PATH: "/usr/bin:/bin", SHELL: "/bin/zsh", KEEP: "1" };
  const { env } = onOwnPty("/unused", SH, [
    SH,
    "-c",
    'printf "[%s]" "$@"; echo; env | sort | grep -v "^_="',
    "sh",
    ...words,
  ], backendEnv);
  const out = new Deno.Command(SH, {
    args: ["-c", PTY_SCRIPT],
    env,
    clearEnv: true,
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const args = words.map((w) => `[${w}]`).join("");
  assertEquals(text.slice(0, args.length), args);
  // The printing `sh` sets PWD (and bash SHLVL) itself.
  const shown = text.slice(args.length).split("\n")
    .filter((v) => /^[A-Z_]+=/.test(v));
  assertEquals(
    shown.filter((v) => !v.startsWith("PWD=") && !v.startsWith("SHLVL=")),
    ["KEEP=1", "PATH=/usr/bin:/bin", "SHELL=/bin/zsh"],
  );
});
