/**
 * The host's `/etc/resolv.conf` and `/etc/hosts` are bound into the sandbox
 * as they are, read-only, where the backend can make a bind read-only, and
 * as a private copy where it cannot (proot). Either way the command sees
 * the host's text and cannot change the host's file.
 *
 * Hostile, so jailed (`jail.ts`): the host is read-only but for the test's
 * own directory, and inside that mount namespace two writable sentinel files
 * are bound over `/etc/resolv.conf` and `/etc/hosts`. A backend that bound
 * them writable would change the sentinels, never the machine's files.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendName } from "../../src/backends/names.ts";
import { runPolythene } from "../helpers/cli.ts";
import {
  backendMissingAsRoot,
  makeBusyboxStore,
  testNeeding,
} from "../helpers/fixtures.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

/** Binds $1 over /etc/resolv.conf and $2 over /etc/hosts, then runs the rest. */
const OVER_HOST_FILES = `set -eu
mount --bind -- "$1" /etc/resolv.conf
mount --bind -- "$2" /etc/hosts
shift 2
exec "$@"
`;

const RESOLV = "nameserver 192.0.2.53\n";
const HOSTS = "192.0.2.7 sentinel-host\n";

for (const backend of ["bubblewrap", "proot", "chroot"] as BackendName[]) {
  testNeeding(
    canJail() ? backendMissingAsRoot(backend) : "root (to make the jail)",
    `exec: the command cannot write the host's resolv.conf and hosts (${backend})`,
    async () => {
      const staged = await makeBusyboxStore();
      const dir = await Deno.makeTempDir({ prefix: "polythene-dns-" });
      try {
        await Deno.writeTextFile(`${dir}/resolv`, RESOLV);
        await Deno.writeTextFile(`${dir}/hosts`, HOSTS);
        const result = await runPolythene([
          "exec",
          "--isolation",
          backend,
          "--isolation-floor",
          backend,
          "--store",
          staged.store,
          staged.uuid,
          "--",
          "sh",
          "-c",
          "echo evil 2>/dev/null > /etc/resolv.conf; " +
          "echo evil 2>/dev/null >> /etc/hosts; " +
          "cat /etc/resolv.conf /etc/hosts",
        ], {
          prefix: [
            // proot needs a writable /tmp of its own.
            ...jailPrefix(["/tmp", staged.store, dir]),
            "sh",
            "-c",
            OVER_HOST_FILES,
            "polythene-dns",
            `${dir}/resolv`,
            `${dir}/hosts`,
          ],
        });
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stderr, /unusable/, "no fall-back");
        // proot writes its private copy and reads it back; the others refuse.
        const seen = backend === "proot"
          ? "evil\n" + HOSTS + "evil\n"
          : RESOLV + HOSTS;
        assert.equal(result.stdout, seen, result.stderr);
        assert.equal(await Deno.readTextFile(`${dir}/resolv`), RESOLV);
        assert.equal(await Deno.readTextFile(`${dir}/hosts`), HOSTS);
      } finally {
        await Deno.remove(dir, { recursive: true });
        await staged.cleanup();
      }
    },
  );
}
