/**
 * Mutation check behind `deno task mutants`: applies each of a small, named
 * set of breaking edits, one at a time, to a scratch copy of the repository
 * (never to the working tree), runs the test files that should notice, and
 * reports which edits the tests killed and which survived.
 *
 * ```sh
 * deno run -A scripts/mutants.ts [--only NAME[,NAME...]] [--list]
 * ```
 *
 * Each edit is (file, exact search text, replacement). When the search text
 * is not found exactly once, the mutant is reported as "not applicable" and
 * counts as survived: a refactor that moves the text must update the edit,
 * not silently skip it.
 *
 * Every test run happens as root inside a jail (see `tests/helpers/jail.ts`):
 * a mutant that breaks a security check must not be able to write to the
 * host. The scratch copy, Deno's cache and a private tmpfs on /tmp are the
 * only writable places. Under `CI=true` the tests' skips fail, so a
 * mutant is never "killed" by a missing tool: a baseline run of the same
 * files on the unmodified copy must pass first.
 *
 * The last line printed is `N killed, N survived`; the exit status is 1 when
 * any mutant survived.
 *
 * Permissions: all (`-A`); it copies the tree and runs `deno test`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { jailPrefix } from "../tests/helpers/jail.ts";
import { type Mutant, MUTANTS, type TestRun } from "./_mutants_list.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** What happened to one mutant. */
export type Outcome =
  | { kind: "killed"; by: string }
  | { kind: "survived" }
  | { kind: "not applicable"; why: string };

/**
 * Applies `mutant`'s edit to `text`. Pure.
 *
 * @returns the edited text, or the reason the edit does not apply.
 */
export function applyEdit(
  text: string,
  search: string,
  replace: string,
): { text: string } | { why: string } {
  const first = text.indexOf(search);
  if (first === -1) return { why: "search text not found" };
  if (text.indexOf(search, first + 1) !== -1) {
    return { why: "search text found more than once" };
  }
  return {
    text: text.slice(0, first) + replace + text.slice(first + search.length),
  };
}

/** `N killed, N survived`, counting "not applicable" as survived. Pure. */
export function summary(outcomes: readonly Outcome[]): string {
  const killed = outcomes.filter((o) => o.kind === "killed").length;
  return `${killed} killed, ${outcomes.length - killed} survived`;
}

/** Copies the tracked and untracked (not ignored) files of the repo. */
async function scratchCopy(): Promise<string> {
  // Not under /tmp, which the jail covers with its own tmpfs.
  const dir = await Deno.makeTempDir({
    dir: "/var/tmp",
    prefix: "polythene-mutants-",
  });
  await Deno.chmod(dir, 0o755);
  const files = await run("git", [
    "-C",
    ROOT,
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ]);
  for (const path of files.stdout.split("\0").filter(Boolean)) {
    const to = `${dir}/repo/${path}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    try {
      await Deno.copyFile(`${ROOT}/${path}`, to);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return dir;
}

async function run(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

async function denoDir(): Promise<string> {
  const info = await run(Deno.execPath(), ["info", "--json"]);
  return JSON.parse(info.stdout).denoDir;
}

/** Runs one test file in the jail; true when it passed. */
async function testPasses(
  scratch: string,
  cache: string,
  test: TestRun,
): Promise<{ passed: boolean; tail: string }> {
  const repo = `${scratch}/repo`;
  const argv = [
    ...jailPrefix([scratch, cache]),
    // A private /tmp: the CLI under test clears its environment (TMPDIR too)
    // and puts its temporary files there. A private /dev/shm: podman keeps
    // its locks there, and the jail makes the host's read-only.
    "sh",
    "-c",
    "mount -t tmpfs -o mode=1777 polythene-mutants /tmp && " +
    "mount -t tmpfs -o mode=1777,nosuid,nodev polythene-mutants /dev/shm && " +
    'exec "$@"',
    "polythene-mutants",
    Deno.execPath(),
    "test",
    "-A",
    "--no-prompt",
    ...(test.filter ? ["--filter", test.filter] : []),
    test.file,
  ];
  const out = await run(argv[0]!, argv.slice(1), {
    cwd: repo,
    env: { ...Deno.env.toObject(), TMPDIR: "/tmp", CI: "true" },
  });
  const tail = (out.stdout + out.stderr).trim().split("\n").slice(-12)
    .join("\n");
  return { passed: out.code === 0, tail };
}

function label(test: TestRun): string {
  return test.filter ? `${test.file} --filter "${test.filter}"` : test.file;
}

async function tryMutant(
  scratch: string,
  cache: string,
  mutant: Mutant,
): Promise<Outcome> {
  const path = `${scratch}/repo/${mutant.file}`;
  const original = await Deno.readTextFile(path);
  const edited = applyEdit(original, mutant.search, mutant.replace);
  if ("why" in edited) {
    return { kind: "not applicable", why: `${mutant.file}: ${edited.why}` };
  }
  await Deno.writeTextFile(path, edited.text);
  try {
    for (const test of mutant.tests) {
      const { passed } = await testPasses(scratch, cache, test);
      if (!passed) return { kind: "killed", by: label(test) };
    }
    return { kind: "survived" };
  } finally {
    await Deno.writeTextFile(path, original);
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: "string" },
      list: { type: "boolean", default: false },
    },
  });
  const only = values.only?.split(",");
  const mutants = MUTANTS.filter((m) => !only || only.includes(m.name));
  if (values.list) {
    for (const m of mutants) console.log(`${m.name}: ${m.description}`);
    return 0;
  }
  if (Deno.uid() !== 0) {
    console.error("scripts/mutants.ts: run as root (the tests run jailed)");
    return 1;
  }
  const scratch = await scratchCopy();
  const cache = await denoDir();
  try {
    // Baseline: every file must pass unmodified, so a kill means the edit.
    const files = new Map<string, TestRun>();
    for (const m of mutants) for (const t of m.tests) files.set(label(t), t);
    console.log(`baseline: ${files.size} test runs on the unmodified copy`);
    let broken = false;
    for (const [name, test] of files) {
      const { passed, tail } = await testPasses(scratch, cache, test);
      if (!passed) {
        console.log(`  baseline FAILED: ${name}\n${tail}`);
        broken = true;
      }
    }
    if (broken) {
      console.log("the baseline fails: fix it before judging mutants");
      return 1;
    }
    const outcomes: Outcome[] = [];
    for (const mutant of mutants) {
      const outcome = await tryMutant(scratch, cache, mutant);
      outcomes.push(outcome);
      const what = outcome.kind === "killed"
        ? `killed by ${outcome.by}`
        : outcome.kind === "survived"
        ? "SURVIVED"
        : `NOT APPLICABLE (${outcome.why})`;
      console.log(`${mutant.name}: ${what}`);
    }
    const survivors = mutants.filter((_, i) => outcomes[i]!.kind !== "killed");
    if (survivors.length > 0) {
      console.log(`survived: ${survivors.map((m) => m.name).join(", ")}`);
    }
    console.log(summary(outcomes));
    return survivors.length === 0 ? 0 : 1;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
