/**
 * Package managers work, proven: pull the Debian bookworm minbase image
 * (scripts/debian_image.ts, cached in /var/cache/polythene-test) into a
 * fresh store, then `apt-get update`, `apt-get install -y hello` and
 * `hello`: as root over bubblewrap, proot and chroot (the guest holding only
 * Docker's default capabilities, apt dropping to `_apt` itself), and as the
 * rig's unprivileged user `polythene-test` over bubblewrap (a user
 * namespace) and proot (`-0`), with root emulation. apt reaches the Debian
 * mirror the image was built from, over the host network.
 *
 * Needs root (to switch user and clean up), the user, setpriv, bwrap, proot,
 * unshare, mount and the Debian image (or what builds it); under `CI=true` a
 * missing one fails the test instead of skipping it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runOrThrow } from "../helpers/command.ts";
import {
  debianImage,
  debianImageMissing,
  debianOciImage,
} from "../../scripts/debian_image.ts";
import type { BackendName } from "../../src/backends/names.ts";
import {
  type CliOptions,
  type CliResult,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import { show } from "../helpers/exec_shapes.ts";
import {
  missingFor,
  onHostPath,
  testNeeding,
  testUser,
} from "../helpers/fixtures.ts";
import { writeOciLayout } from "../helpers/oci_image.ts";

const USER = testUser();
/** apt reaches a real mirror: allow it time. */
const APT_MS = 600_000;

const MISSING = missingFor({
  root: true,
  user: true,
  programs: ["setpriv", "bwrap", "proot", "unshare", "mount", "chmod", "chown"],
  found: onHostPath,
  also: [await debianImageMissing()],
});

/**
 * Runs `fn` with the Debian image as `oci:LAYOUT:bookworm` (readable by
 * `user`) and an empty store (mode 0700) owned by `user`, or by root when
 * `user` is undefined; removes both as root.
 */
async function withDebian(
  user: TestUser | undefined,
  fn: (image: string, store: string, cli: CliOptions) => Promise<void>,
): Promise<void> {
  const source = user ? await sourceReadableBy(user) : undefined;
  const dir = await Deno.makeTempDir({ prefix: "polythene-apt-" });
  try {
    await writeOciLayout(
      `${dir}/oci`,
      await debianOciImage(await debianImage()),
      "bookworm",
    );
    await runOrThrow(["chmod", "-R", "a+rX", dir]);
    await Deno.mkdir(`${dir}/store`, { mode: 0o700 });
    if (user) {
      await runOrThrow(["chown", `${user.uid}:${user.gid}`, `${dir}/store`]);
    }
    await fn(`oci:${dir}/oci:bookworm`, `${dir}/store`, {
      user,
      source: source?.dir,
      killAfterMs: APT_MS,
    });
  } finally {
    // The entry is owned by the user, with directories apt made 0755.
    await Deno.remove(dir, { recursive: true });
    await source?.cleanup();
  }
}

/** Asserts exit 0 under `backend`. */
function assertOk(result: CliResult, backend: BackendName, what: string) {
  const why = `${what}\n${show(result)}`;
  assert.equal(result.code, 0, why);
  assert.match(result.stderr, new RegExp(`using backend ${backend}$`, "m"));
}

/** Each backend as the unprivileged user (root emulation) and as root. */
const SHAPES: [BackendName, TestUser | undefined][] = [
  ["bubblewrap", USER],
  ["proot", USER],
  ["bubblewrap", undefined],
  ["proot", undefined],
  ["chroot", undefined],
];

for (const [backend, user] of SHAPES) {
  const who = user ? "the unprivileged user" : "root";
  testNeeding(
    MISSING,
    `apt-get installs hello as ${who} over ${backend}`,
    async () => {
      await withDebian(user, async (image, store, cli) => {
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
        const emulation = /root emulation: .*00polythene-sandbox/;
        // Real root (with Docker's default capabilities) needs none: apt
        // drops to _apt itself.
        if (user) assert.match(update.stderr, emulation);
        else assert.doesNotMatch(update.stderr, emulation);
        assert.match(update.stdout, /Reading package lists/, show(update));

        const install = await exec(["apt-get", "install", "-y", "hello"]);
        assertOk(install, backend, "apt-get install -y hello");
        assert.match(install.stdout, /Setting up hello/, show(install));

        const hello = await exec(["hello"], false);
        assert.equal(hello.code, 0, show(hello));
        assert.equal(hello.stdout, "Hello, world!\n", show(hello));

        if (user) {
          // The snippet was bound for the run only: the image keeps an
          // empty mount point, which apt ignores.
          const snippet = `${store}/${uuid}/etc/apt/apt.conf.d/` +
            "00polythene-sandbox";
          assert.equal((await Deno.stat(snippet)).size, 0);
        }
      });
    },
  );
}
