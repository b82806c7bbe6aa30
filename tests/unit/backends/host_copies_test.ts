import { assertEquals } from "../../helpers/assert.ts";
import type { Mount, RunSpec } from "../../../src/backends/backend.ts";
import { BACKENDS } from "../../../src/backends/mod.ts";
import {
  needsHostCopies,
  withHostCopies,
} from "../../../src/backends/host_copies.ts";

const backend = (name: string) => BACKENDS.find((b) => b.name === name)!;

const spec = (mounts: Mount[]): RunSpec => ({
  rootfs: "/r",
  argv: ["true"],
  env: { PATH: "/bin" },
  cwd: "/",
  terminal: false,
  mounts,
  network: "host",
});

const hostFile: Mount = {
  source: "/etc/hosts",
  target: "/r/etc/hosts",
  readOnly: true,
  hostFile: true,
};

Deno.test("only a backend without read-only binds copies host files", () => {
  assertEquals(needsHostCopies(backend("proot"), spec([hostFile])), true);
  assertEquals(needsHostCopies(backend("bubblewrap"), spec([hostFile])), false);
  assertEquals(needsHostCopies(backend("chroot"), spec([hostFile])), false);
  const bind = { ...hostFile, hostFile: undefined, readOnly: false };
  assertEquals(needsHostCopies(backend("proot"), spec([bind])), false);
});

Deno.test("proot accepts a host file it will copy, not a read-only user bind", () => {
  const proot = backend("proot");
  const host = { uid: 0, realRoot: true };
  assertEquals(proot.refuses!(spec([hostFile]), host), undefined);
  const ro = { ...hostFile, hostFile: undefined };
  assertEquals(
    proot.refuses!(spec([ro]), host),
    'cannot make a bind read-only ("/etc/hosts:/r/etc/hosts:ro")',
  );
});

Deno.test("withHostCopies binds a private copy, keeps other mounts, drops a vanished file", () => {
  const dir = Deno.makeTempDirSync({ prefix: "polythene-copies-" });
  try {
    const source = `${dir}/host-resolv`;
    Deno.writeTextFileSync(source, "nameserver 192.0.2.1\n");
    Deno.chmodSync(source, 0o600);
    const run = `${dir}/run`;
    Deno.mkdirSync(run, { mode: 0o700 });
    const user: Mount = { source: dir, target: "/r/mnt", readOnly: false };
    const copied = withHostCopies(
      spec([
        { ...hostFile, source, target: "/r/etc/resolv.conf" },
        user,
        { ...hostFile, source: `${dir}/gone` },
      ]),
      run,
    );
    const mounts = copied.mounts!;
    assertEquals(mounts.length, 2);
    const copy = mounts[0]!;
    assertEquals(copy.source.startsWith(`${run}/polythene-host-`), true);
    assertEquals(copy.target, "/r/etc/resolv.conf");
    assertEquals(copy.readOnly, true);
    assertEquals(copy.privateCopy, true);
    assertEquals(copy.hostFile, undefined);
    assertEquals(Deno.readTextFileSync(copy.source), "nameserver 192.0.2.1\n");
    assertEquals(Deno.statSync(copy.source).mode! & 0o777, 0o644);
    assertEquals(mounts[1], user);
    // A write to the copy leaves the host's file alone.
    Deno.writeTextFileSync(copy.source, "evil\n");
    assertEquals(Deno.readTextFileSync(source), "nameserver 192.0.2.1\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
