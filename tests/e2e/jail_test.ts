/**
 * The jail that hostile tests run in: the host is read-only inside, the
 * named paths stay writable, and nothing done inside reaches the host.
 */

import assert from "node:assert/strict";
import { testNeeding } from "../helpers/fixtures.ts";
import { runCommand } from "../helpers/command.ts";
import { canJail, jailPrefix } from "../helpers/jail.ts";

function jailed(writable: string[], script: string, ...args: string[]) {
  return runCommand([
    ...jailPrefix(writable),
    "sh",
    "-c",
    script,
    "sh",
    ...args,
  ]);
}

testNeeding(
  canJail() ? undefined : "real root (the jail is a mount namespace)",
  "jail: host paths are read-only, the named path is writable",
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "polythene-jail-" });
    const outside = await Deno.makeTempDir({ prefix: "polythene-jail-out-" });
    try {
      const result = await jailed(
        [tmp],
        `echo inside > "$1/inside"
for f in "$2/outside" /etc/polythene-jail-probe /root/.polythene-jail-probe; do
  if (echo pwned > "$f") 2>/dev/null; then echo "wrote $f"; fi
done
echo done`,
        tmp,
        outside,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "done\n");
      assert.equal(await Deno.readTextFile(`${tmp}/inside`), "inside\n");
      for (
        const path of [
          `${outside}/outside`,
          "/etc/polythene-jail-probe",
          "/root/.polythene-jail-probe",
        ]
      ) {
        await assert.rejects(Deno.lstat(path), Deno.errors.NotFound, path);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  },
);

testNeeding(
  canJail() ? undefined : "real root (the jail is a mount namespace)",
  "jail: mounts made inside do not reach the host",
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "polythene-jail-" });
    try {
      await Deno.mkdir(`${tmp}/mnt`);
      const result = await jailed(
        [tmp],
        'mount -t tmpfs jail "$1/mnt" && echo hidden > "$1/mnt/file"',
        tmp,
      );
      assert.equal(result.code, 0, result.stderr);
      await assert.rejects(
        Deno.lstat(`${tmp}/mnt/file`),
        Deno.errors.NotFound,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);

Deno.test("jail: a relative writable path is refused", () => {
  assert.throws(() => jailPrefix(["tmp"]), TypeError);
});
