/**
 * Root emulation for package managers, proven: as the rig's unprivileged
 * user `polythene-test`, pull the Debian bookworm minbase image
 * (scripts/debian_image.ts, cached in /var/cache/polythene-test) into a
 * store that user owns, then `apt-get update`, `apt-get install -y hello`
 * and `hello`, over bubblewrap (a user namespace) and over proot (`-0`),
 * each in a fresh entry. apt reaches the Debian mirror the image was built
 * from, over the host network.
 *
 * Needs root (to switch user and clean up), the user, setpriv, bwrap, proot
 * and the Debian image (or what builds it); under `CI=true` a missing one
 * fails the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import type { BackendName } from "../../src/backends/names.ts";
import {
  type CliOptions,
  type CliResult,
  hostProgram,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import { show } from "../helpers/exec_shapes.ts";
import { testNeeding, testUser } from "../helpers/fixtures.ts";
import { writeOciLayout } from "../helpers/oci_image.ts";

const USER = testUser();
/** apt reaches a real mirror: allow it time. */
const APT_MS = 600_000;

const MISSING = await (async () => {
  const missing: string[] = [];
  if (Deno.uid() !== 0) missing.push("root (uid 0)");
  if (USER === undefined) missing.push('the user "polythene-test"');
  for (const program of ["setpriv", "bwrap", "proot", "chmod", "chown"]) {
    if (hostProgram(program) === undefined) missing.push(program);
  }
  const image = await debianImageMissing();
  if (image !== undefined) missing.push(image);
  return missing.length ? `needs ${missing.join(", ")}` : undefined;
})();

/** Runs `argv` as root; throws with its stderr when it fails. */
async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(hostProgram(argv[0]!)!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * Runs `fn` with the Debian image as `oci:LAYOUT:bookworm` (readable by
 * `user`) and an empty store owned by `user`; removes both as root.
 */
async function withDebian(
  user: TestUser,
  fn: (image: string, store: string, cli: CliOptions) => Promise<void>,
): Promise<void> {
  const source = await sourceReadableBy(user);
  const dir = await Deno.makeTempDir({ prefix: "polythene-apt-" });
  try {
    await writeOciLayout(
      `${dir}/oci`,
      await debianOciImage(await debianImage()),
      "bookworm",
    );
    await run(["chmod", "-R", "a+rX", dir]);
    await Deno.mkdir(`${dir}/store`, { mode: 0o700 });
    await run(["chown", `${user.uid}:${user.gid}`, `${dir}/store`]);
    await fn(`oci:${dir}/oci:bookworm`, `${dir}/store`, {
      user,
      source: source.dir,
      killAfterMs: APT_MS,
    });
  } finally {
    // The entry is owned by the user, with directories apt made 0755.
    await Deno.remove(dir, { recursive: true });
    await source.cleanup();
  }
}

/** Asserts exit 0 under `backend`. */
function assertOk(result: CliResult, backend: BackendName, what: string) {
  const why = `${what}\n${show(result)}`;
  assert.equal(result.code, 0, why);
  assert.match(result.stderr, new RegExp(`using backend ${backend}$`, "m"));
}

for (const backend of ["bubblewrap", "proot"] as const) {
  testNeeding(
    MISSING,
    `apt-get installs hello as the unprivileged user over ${backend}`,
    async () => {
      await withDebian(USER!, async (image, store, cli) => {
        const pull = await runPolythene(
          ["pull", "--quiet", "--store", store, image],
          cli,
        );
        assert.equal(pull.code, 0, show(pull));
        const uuid = pull.stdout.trim();
        assert.match(uuid, /^[0-9a-f-]{36}$/, show(pull));
        const exec = (argv: string[], verbose = true) =>
          runPolythene([
            "exec",
            "--store",
            store,
            "--isolation",
            backend,
            ...(verbose ? ["--verbose"] : []),
            uuid,
            "--",
            ...argv,
          ], cli);

        const update = await exec(["apt-get", "update"]);
        assertOk(update, backend, "apt-get update");
        assert.match(update.stderr, /root emulation: .*00polythene-sandbox/);
        assert.match(update.stdout, /Reading package lists/, show(update));

        const install = await exec(["apt-get", "install", "-y", "hello"]);
        assertOk(install, backend, "apt-get install -y hello");
        assert.match(install.stdout, /Setting up hello/, show(install));

        const hello = await exec(["hello"], false);
        assert.equal(hello.code, 0, show(hello));
        assert.equal(hello.stdout, "Hello, world!\n", show(hello));

        // The snippet was bound for the run only: the image keeps an empty
        // mount point, which apt ignores.
        const snippet = `${store}/${uuid}/etc/apt/apt.conf.d/` +
          "00polythene-sandbox";
        assert.equal((await Deno.stat(snippet)).size, 0);
      });
    },
  );
}
