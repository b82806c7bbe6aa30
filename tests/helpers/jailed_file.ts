/**
 * Runs a test file whose tests feed hostile payloads to code in this very
 * process (the extractor, say) inside the jail of `jail.ts`. As real root
 * outside the jail, {@linkcode runsHere} registers one test that runs
 * `deno test` on the same file under the jail prefix and returns false, so
 * the file registers nothing else; inside the jail (or when not root, where
 * there is no jail to make and nothing to protect beyond the user's own
 * files) it returns true and the file's tests register as usual.
 *
 * In the jail the host is read-only but for one fresh temporary directory,
 * which holds the child's `TMPDIR` and `POLYTHENE_SENTINEL_DIR` (where the
 * sandbox of `tests/unit/layers/_sandbox.ts` puts its "outside" sentinels).
 *
 * @example
 * ```ts
 * import { runsHere } from "./jailed_file.ts";
 * const here = runsHere(import.meta.url, "hostile layers");
 * if (here) Deno.test("a hostile layer", () => {});
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { canJail, jailPrefix } from "./jail.ts";

/** Set in the child: it is the jailed run. */
const JAILED = "POLYTHENE_TEST_JAILED";

/**
 * Whether the calling file should register its tests in this process.
 *
 * @param fileUrl The test file's `import.meta.url`.
 * @param name Name of the one test that runs the file in the jail.
 */
export function runsHere(fileUrl: string, name: string): boolean {
  if (!canJail() || Deno.env.get(JAILED) === "1") return true;
  Deno.test(`${name} (in the jail)`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "polythene-jail-" });
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/tmp`);
      await Deno.mkdir(`${dir}/sentinels`);
      const [program, ...args] = [
        ...jailPrefix([dir]),
        Deno.execPath(),
        "test",
        "--allow-all",
        "--no-check",
        new URL(fileUrl).pathname,
      ];
      const out = await new Deno.Command(program!, {
        args,
        env: {
          [JAILED]: "1",
          TMPDIR: `${dir}/tmp`,
          POLYTHENE_SENTINEL_DIR: `${dir}/sentinels`,
          NO_COLOR: "1",
        },
        stdin: "null",
      }).output();
      const text = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `the jailed run failed:\n${text.slice(-6000)}`);
      assert.match(text, /\bok \| \d+ passed \| 0 failed/, text.slice(-2000));
      console.log(text.match(/ok \| .*/)?.[0] ?? "");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
  return false;
}
