/**
 * `polythene completions`: the bash script, loaded into a real bash, drives
 * bash's own completion machinery.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runPolythene } from "../helpers/cli.ts";
import { makeBusyboxStore, onPath, testNeeding } from "../helpers/fixtures.ts";

/** Runs `_polythene` for `words` (the last one is being completed) in bash. */
async function complete(script: string, words: string[]): Promise<string[]> {
  const program = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_polythene; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const file = await Deno.makeTempFile({ suffix: ".bash" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command("bash", {
      args: ["-c", program, "bash", file, ...words],
      stdin: "null",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l);
  } finally {
    await Deno.remove(file);
  }
}

testNeeding(
  onPath("bash") ? undefined : "bash",
  "completions: bash completes commands, options, backends and UUIDs",
  async () => {
    const generated = await runPolythene(["completions", "bash"]);
    assert.equal(generated.code, 0, generated.stderr);
    const script = generated.stdout;

    const registered = await new Deno.Command("bash", {
      args: [
        "-c",
        'source /dev/stdin <<<"$1"; complete -p polythene',
        "bash",
        script,
      ],
    }).output();
    assert.equal(
      new TextDecoder().decode(registered.stdout).trim(),
      "complete -F _polythene polythene",
    );

    assert.deepEqual(await complete(script, ["polythene", "exe"]), ["exec"]);
    assert.deepEqual(
      await complete(script, ["polythene", "completions", "f"]),
      [
        "fish",
      ],
    );
    assert.deepEqual(
      await complete(script, ["polythene", "exec", "--isolation", ""]),
      ["bubblewrap", "proot", "chroot"],
    );
    assert.deepEqual(await complete(script, ["polythene", "exec", "--ephem"]), [
      "--ephemeral",
    ]);
    const staged = await makeBusyboxStore();
    try {
      assert.deepEqual(
        await complete(script, ["polythene", "exec", "-s", staged.store, ""]),
        [staged.uuid],
      );
      assert.deepEqual(
        await complete(script, [
          "polythene",
          "exec",
          "-s",
          staged.store,
          staged.uuid,
          "--",
          "",
        ]),
        [],
        "nothing is offered after --",
      );
    } finally {
      await staged.cleanup();
    }

    for (const shell of ["zsh", "fish"]) {
      const other = await runPolythene(["completions", shell]);
      assert.equal(other.code, 0, other.stderr);
      assert.match(other.stdout, /polythene/);
    }
    const bad = await runPolythene(["completions", "tcsh"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /Unknown shell "tcsh": expected one of bash, zsh, fish/,
    );
  },
);

async function shellOutput(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

testNeeding(
  onPath("fish") ? undefined : "fish",
  "completions: fish completes commands, backends and UUIDs",
  async () => {
    const generated = await runPolythene(["completions", "fish"]);
    assert.equal(generated.code, 0, generated.stderr);
    const file = await Deno.makeTempFile({ suffix: ".fish" });
    const staged = await makeBusyboxStore();
    try {
      await Deno.writeTextFile(file, generated.stdout);
      const complete = (line: string) =>
        shellOutput(["fish", "-c", `source ${file}; complete -C '${line}'`]);
      assert.equal(await complete("polythene exe"), "exec\n");
      assert.deepEqual(
        (await complete("polythene exec --isolation ")).split("\n").filter(
          (l) => l,
        ).sort(),
        ["bubblewrap", "chroot", "proot"],
      );
      assert.equal(
        await complete(`polythene exec -s ${staged.store} `),
        `${staged.uuid}\n`,
      );
    } finally {
      await staged.cleanup();
      await Deno.remove(file);
    }
  },
);

testNeeding(
  onPath("zsh") ? undefined : "zsh",
  "completions: zsh loads the script through bashcompinit",
  async () => {
    const generated = await runPolythene(["completions", "zsh"]);
    assert.equal(generated.code, 0, generated.stderr);
    const file = await Deno.makeTempFile({ suffix: ".zsh" });
    try {
      await Deno.writeTextFile(file, generated.stdout);
      // As zsh's bashcompinit runs it: sh emulation, so arrays start at 0.
      const program = `source "$1" || exit 1
emulate -L sh
COMP_WORDS=(polythene exec --isolation ''); COMP_CWORD=3; COMPREPLY=()
_polythene; print -l -- "\${COMPREPLY[@]}"`;
      const out = await shellOutput(["zsh", "-f", "-c", program, "zsh", file]);
      assert.deepEqual(out.split("\n").filter((l) => l), [
        "bubblewrap",
        "proot",
        "chroot",
      ]);
    } finally {
      await Deno.remove(file);
    }
  },
);
