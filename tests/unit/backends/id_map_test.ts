import assert from "node:assert/strict";
import { chooseIdMap, parseIdMap } from "../../../src/backends/id_map.ts";
import { bubblewrap, bwrapArgs } from "../../../src/backends/bubblewrap.ts";
import { UsageError } from "../../../src/errors.ts";

const USER = { realRoot: false, runUid: 0, fullMissing: undefined };
const NO_RANGES = { ...USER, fullMissing: "u has no range in /etc/subuid" };

Deno.test("auto: full maps when the host can make them, else fake", () => {
  assert.equal(chooseIdMap("auto", USER).mode, "full");
  const fake = chooseIdMap("auto", NO_RANGES);
  assert.equal(fake.mode, "fake");
  assert.match(fake.reason, /no range in \/etc\/subuid/);
});

Deno.test("real root and --user runs need no mapping choice", () => {
  assert.equal(chooseIdMap("fake", { ...USER, realRoot: true }).mode, "real");
  assert.equal(chooseIdMap("auto", { ...USER, runUid: 1000 }).mode, "single");
});

Deno.test("forced modes; full where impossible is a usage error", () => {
  assert.equal(chooseIdMap("fake", USER).mode, "fake");
  assert.equal(chooseIdMap("single", USER).mode, "single");
  assert.throws(
    () => chooseIdMap("full", NO_RANGES),
    (e) =>
      e instanceof UsageError && /apt-get install uidmap/.test(e.message) &&
      /\/etc\/subuid/.test(e.message),
  );
  assert.throws(() => parseIdMap("ful"), UsageError);
  assert.equal(parseIdMap("auto"), "auto");
});

const SPEC = {
  rootfs: "/r",
  argv: ["true"],
  env: {},
  cwd: "/",
  terminal: false,
};
const HOST = { uid: 1000, realRoot: false };
const PROGRAMS = { bwrap: "/usr/bin/bwrap", sh: "/bin/sh" };

Deno.test("full maps: bwrap runs in unshare's namespace, makes no userns", () => {
  const spec = {
    ...SPEC,
    idMap: {
      mode: "full" as const,
      unshare: "/usr/bin/unshare",
      helperPath: "/usr/bin",
      forced: false,
    },
  };
  const inv = bubblewrap.invocation(spec, HOST, PROGRAMS);
  assert.deepEqual(inv.argv.slice(0, 6), [
    "/usr/bin/unshare",
    "--user",
    "--map-auto",
    "--map-root-user",
    "--",
    "/usr/bin/bwrap",
  ]);
  assert.ok(!inv.argv.includes("--unshare-user"));
  assert.equal(inv.env.PATH, "/usr/bin");
  assert.ok(bwrapArgs(SPEC, HOST).includes("--unshare-user"));
});

Deno.test("fake: --seccomp 5 before --, fd 5 opened by the wrapper", () => {
  const spec = {
    ...SPEC,
    idMap: { mode: "fake" as const, filterFile: "/s/.polythene/f.bpf" },
  };
  const inv = bubblewrap.invocation(spec, HOST, PROGRAMS);
  assert.equal(inv.argv[0], "/usr/bin/bwrap");
  assert.equal(inv.fdSeccomp, "/s/.polythene/f.bpf");
  assert.ok(inv.statusFd && inv.fdArgs !== undefined);
  const dashes = inv.argv.indexOf("--");
  const seccomp = inv.argv.indexOf("--seccomp");
  assert.ok(seccomp > 0 && seccomp < dashes);
  assert.equal(inv.argv[seccomp + 1], "5");
  assert.ok(inv.argv.includes("--unshare-user"));
});
