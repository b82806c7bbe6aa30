/**
 * `doctor`'s classification, fed the messages the real tools print.
 *
 * @module
 */

import { idMapReport } from "../../../src/backends/id_map_report.ts";
import assert from "node:assert/strict";
import { bubblewrap } from "../../../src/backends/bubblewrap.ts";
import { chroot } from "../../../src/backends/chroot.ts";
import {
  classifyProbeFailure,
  diagnose,
  type DoctorHost,
} from "../../../src/backends/doctor.ts";
import { proot } from "../../../src/backends/proot.ts";
import { formatReport } from "../../../src/cli/doctor.ts";

const USER: DoctorHost = {
  uid: 1001,
  realRoot: false,
  kernel: "6.1.0-18-amd64",
  sysctls: { "user.max_user_namespaces": 63429 },
};

/** What bwrap 0.8.0 prints at each failure (bubblewrap.c, Debian 12). */
const BWRAP = {
  enospc: "bwrap: Creating new namespace failed: nesting depth or " +
    "/proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
  enospcOld: "bwrap: Creating new namespace failed: No space left on device",
  sysctl: "bwrap: No permissions to creating new namespace, likely because " +
    "the kernel does not allow non-privileged user namespaces. On e.g. " +
    "debian this can be enabled with 'sysctl " +
    "kernel.unprivileged_userns_clone=1'.",
  eperm: "bwrap: Creating new namespace failed: Operation not permitted",
  uidMap: "bwrap: setting up uid map: Permission denied",
};

/** proot 5.1 under a tracer (`strace -f proot -r / -0 true`). */
const PROOT_PTRACE = [
  "proot error: ptrace(TRACEME): Operation not permitted",
  'proot error: execve("/usr/bin/true"): Operation not permitted',
  "proot info: It seems your kernel contains this bug: " +
  "https://bugs.launchpad.net/ubuntu/+source/linux/+bug/1202161",
  "To workaround it, set the env. variable PROOT_NO_SECCOMP to 1.",
  "fatal error: see `proot --help`.",
].join("\n");

Deno.test("ENOSPC from max_user_namespaces is a userns limit", () => {
  for (const stderr of [BWRAP.enospc, BWRAP.enospcOld]) {
    const got = classifyProbeFailure("bubblewrap", stderr, USER);
    assert.equal(got.kind, "userns-limit", stderr);
    assert.match(got.fix, /sysctl -w user\.max_user_namespaces=\d+/);
    assert.match(got.fix, /--isolation proot/);
  }
  const zero = { ...USER, sysctls: { "user.max_user_namespaces": 0 } };
  const got = classifyProbeFailure("bubblewrap", BWRAP.enospc, zero);
  assert.match(got.cause, /user\.max_user_namespaces is 0/);
});

Deno.test("a uid map denial is AppArmor's userns restriction", () => {
  const got = classifyProbeFailure("bubblewrap", BWRAP.uidMap, USER);
  assert.equal(got.kind, "userns-denied");
  assert.match(got.cause, /AppArmor/);
  assert.match(got.fix, /apparmor_restrict_unprivileged_userns=0/);
  assert.match(got.fix, /--isolation proot/);
  // EPERM with the AppArmor switch on is the same denial.
  const on = {
    ...USER,
    sysctls: { "kernel.apparmor_restrict_unprivileged_userns": 1 },
  };
  assert.equal(
    classifyProbeFailure("bubblewrap", BWRAP.eperm, on).kind,
    "userns-denied",
  );
});

Deno.test("EPERM creating a userns is userns disabled by sysctl", () => {
  const off = { ...USER, sysctls: { "kernel.unprivileged_userns_clone": 0 } };
  for (const stderr of [BWRAP.sysctl, BWRAP.eperm]) {
    const got = classifyProbeFailure("bubblewrap", stderr, off);
    assert.equal(got.kind, "userns-disabled", stderr);
    assert.match(got.cause, /kernel\.unprivileged_userns_clone=0/);
    assert.match(got.fix, /sysctl -w kernel\.unprivileged_userns_clone=1/);
  }
  assert.equal(
    classifyProbeFailure("bubblewrap", BWRAP.sysctl, USER).kind,
    "userns-disabled",
  );
  // Without the Debian switch the fix stays generic.
  const got = classifyProbeFailure("bubblewrap", BWRAP.eperm, USER);
  assert.equal(got.kind, "userns-disabled");
  assert.doesNotMatch(got.fix, /unprivileged_userns_clone/);
  assert.match(got.fix, /--isolation proot/);
});

Deno.test("proot's failed ptrace(TRACEME) is ptrace blocked", () => {
  const got = classifyProbeFailure("proot", PROOT_PTRACE, USER);
  assert.equal(got.kind, "ptrace-blocked");
  assert.match(got.fix, /bubblewrap/);
  const yama = { ...USER, sysctls: { "kernel.yama.ptrace_scope": 3 } };
  assert.match(
    classifyProbeFailure("proot", PROOT_PTRACE, yama).cause,
    /ptrace_scope=3/,
  );
});

Deno.test("an unrecognised message is unknown, with its last line", () => {
  const got = classifyProbeFailure("bubblewrap", "bwrap: odd\nbwrap: x", USER);
  assert.equal(got.kind, "unknown");
  assert.equal(got.cause, "bwrap: x");
  assert.equal(classifyProbeFailure("chroot", "", USER).kind, "unknown");
});

Deno.test("checks before the probe: not root and missing programs", () => {
  const root = diagnose(chroot, {
    ok: false,
    stage: "root",
    reason: "needs real root (uid 0 in the initial user namespace)",
    fix: "run as root",
  }, USER);
  assert.equal(root?.kind, "not-root");
  assert.match(root?.cause ?? "", /uid 1001/);
  const mapped = diagnose(chroot, {
    ok: false,
    stage: "root",
    reason: "needs real root",
  }, { ...USER, uid: 0 });
  assert.match(mapped?.cause ?? "", /mapped root/);
  const missing = diagnose(bubblewrap, {
    ok: false,
    stage: "programs",
    reason: '"bwrap" not found on PATH',
  }, USER);
  assert.equal(missing?.kind, "program-missing");
  assert.match(missing?.fix ?? "", /apt-get install bubblewrap/);
  assert.match(missing?.fix ?? "", /--isolation proot/);
  const probe = diagnose(proot, {
    ok: false,
    stage: "probe",
    reason: "probe failed: fatal error: see `proot --help`.",
    probe: { ok: false, stderr: PROOT_PTRACE, probedAt: "2025-01-01T00:00Z" },
  }, USER);
  assert.equal(probe?.kind, "ptrace-blocked");
  assert.equal(probe?.reason, "probe failed: fatal error: see `proot --help`.");
});

Deno.test("the text report names the backend exec would use", () => {
  const text = formatReport({
    schema: 1,
    store: "/s",
    host: USER,
    backends: [{
      name: "chroot",
      programs: { unshare: "/usr/bin/unshare", mount: null },
      version: null,
      probe: null,
      usable: false,
      problem: {
        kind: "not-root",
        reason: "needs real root",
        cause: "not root",
        fix: "run as root",
      },
      isolates: chroot.isolates,
    }],
    selected: null,
    idMaps: idMapReport("auto", false, "newuidmap/newgidmap are not on PATH"),
    emulation: [],
  });
  assert.match(text, /^chroot: unusable$/m);
  assert.match(text, /^ {2}bubblewrap: fake: no full maps: newuidmap/m);
  assert.match(text, /^ {2}fix: .*apt-get install uidmap.*\/etc\/subuid/m);
  assert.match(text, /programs: \/usr\/bin\/unshare mount \(not found\)/);
  assert.match(text, /problem: {2}not-root: not root/);
  assert.match(text, /^exec would use: none/m);
});
