/**
 * `polythene pull` as the rig's unprivileged user `polythene-test`, through
 * the real CLI against a real registry, into a store that user owns: the
 * pull succeeds, owners and setuid bits the user cannot apply are recorded
 * in the entry's metadata instead, device nodes are skipped, directories
 * stay removable, and the user can `exec` in the entry under bubblewrap.
 *
 * Needs root (to switch user with `setpriv`), the user `polythene-test`
 * (scripts/setup.sh), bwrap and docker-registry; under `CI=true` a missing
 * one fails instead of skipping.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliOptions,
  runPolythene,
  sourceReadableBy,
  type TestUser,
} from "../helpers/cli.ts";
import { missingFor, testNeeding, testUser } from "../helpers/fixtures.ts";
import { buildImage } from "../helpers/oci_image.ts";
import {
  pushImage,
  registryMissing,
  startRegistry,
} from "../helpers/registry.ts";
import {
  assertEntry,
  assertPulled,
  busyboxEntries,
  explain,
  tempStore,
} from "../helpers/pull_checks.ts";

const USER = testUser();
const MISSING = missingFor({
  root: true,
  user: true,
  programs: ["setpriv", "bwrap"],
  also: [registryMissing()],
});

/** Options that run the CLI as `user`, from source that user can read. */
async function asUser(user: TestUser) {
  const source = await sourceReadableBy(user);
  const options: CliOptions = { user, source: source.dir };
  return { options, cleanup: () => source.cleanup() };
}

testNeeding(
  MISSING,
  "pull: as an unprivileged user, owners go to metadata and devices are skipped",
  async () => {
    const user = USER!;
    await using registry = await startRegistry();
    await using files = await tempStore(user);
    const cli = await asUser(user);
    try {
      const image = await buildImage({
        layers: [{
          compression: "gzip",
          entries: [
            ...busyboxEntries(),
            { name: "etc/", type: "dir" },
            { name: "etc/hello", content: "hello\n" },
            { name: "usr/", type: "dir" },
            { name: "usr/bin/", type: "dir" },
            { name: "usr/bin/suid", content: "s\n", mode: 0o4755 },
            { name: "usr/bin/sgid", content: "g\n", mode: 0o2755, gid: 42 },
            { name: "home/", type: "dir" },
            { name: "home/u/", type: "dir", mode: 0o700, uid: 1000, gid: 1000 },
            { name: "home/u/f", content: "f\n", uid: 1000, gid: 1000 },
            { name: "ro/", type: "dir", mode: 0o555 },
            { name: "ro/file", content: "r\n", mode: 0o444 },
            { name: "dev/", type: "dir" },
            { name: "dev/console", type: "char", devmajor: 5, devminor: 1 },
            {
              name: "dev/sda",
              type: "block",
              devmajor: 8,
              devminor: 0,
              mode: 0o660,
            },
          ],
        }],
        config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] },
      });
      await pushImage(registry, "test/unprivileged", "1", image);
      const ref = `${registry.host}/test/unprivileged:1`;
      const store = files.store;

      const pulled = await runPolythene(
        ["pull", "--verbose", "--store", store, ref],
        cli.options,
      );
      const uuid = assertPulled(pulled);
      assert.match(pulled.stderr, /dev\/console/, "the skip is logged");
      assert.match(
        pulled.stderr,
        /^polythene: warning: skipped 2 device node\(s\) of "/m,
        "the skip is a warning, with or without --verbose",
      );
      const root = `${store}/${uuid}`;
      const meta = await assertEntry(store, uuid, {
        image: ref,
        digest: image.digest,
        config: { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] },
      });

      // On disk: everything is the user's; setuid/setgid bits are dropped.
      for (const path of ["", "/usr/bin/suid", "/home/u/f", "/ro/file"]) {
        const info = await Deno.lstat(`${root}${path}`);
        assert.equal(info.uid, user.uid, `${path || "/"} belongs to the user`);
      }
      const mode = async (path: string) =>
        ((await Deno.lstat(`${root}${path}`)).mode ?? 0) & 0o7777;
      assert.equal(await mode("/usr/bin/suid"), 0o755);
      assert.equal(await mode("/usr/bin/sgid"), 0o755);
      assert.ok((await mode("/ro")) & 0o200, "directories stay writable");
      for (const device of ["/dev/console", "/dev/sda"]) {
        await assert.rejects(
          Deno.lstat(`${root}${device}`),
          Deno.errors.NotFound,
        );
      }

      // In the metadata: what the image said.
      const owners = meta.ownership ?? {};
      assert.deepEqual(owners["/usr/bin/suid"], {
        uid: 0,
        gid: 0,
        mode: 0o4755,
      });
      assert.deepEqual(owners["/usr/bin/sgid"], {
        uid: 0,
        gid: 42,
        mode: 0o2755,
      });
      assert.deepEqual(owners["/home/u"], {
        uid: 1000,
        gid: 1000,
        mode: 0o700,
      });
      assert.deepEqual(owners["/home/u/f"], {
        uid: 1000,
        gid: 1000,
        mode: 0o644,
      });
      assert.equal(owners["/ro"]?.mode, 0o555);
      assert.deepEqual(owners["/dev/console"]?.device, {
        type: "char",
        major: 5,
        minor: 1,
      });
      assert.deepEqual(owners["/dev/sda"]?.device, {
        type: "block",
        major: 8,
        minor: 0,
      });
      assert.equal(owners["/etc/hello"], undefined, "root-owned: no record");

      // The user runs a command in it, under bubblewrap.
      const ran = await runPolythene([
        "exec",
        "--verbose",
        "--isolation",
        "bubblewrap",
        "--store",
        store,
        uuid,
        "--",
        "sh",
        "-c",
        "cat /etc/hello; id -u",
      ], cli.options);
      assert.equal(ran.code, 0, explain(ran));
      assert.equal(ran.stdout, "hello\n0\n");
      assert.match(ran.stderr, /using backend bubblewrap\n/, explain(ran));

      // And can remove it, read-only directories included.
      const removed = await new Deno.Command("setpriv", {
        args: [
          `--reuid=${user.uid}`,
          `--regid=${user.gid}`,
          "--init-groups",
          "rm",
          "-rf",
          root,
        ],
        stdin: "null",
      }).output();
      assert.ok(removed.success, new TextDecoder().decode(removed.stderr));
    } finally {
      await cli.cleanup();
    }
  },
);
