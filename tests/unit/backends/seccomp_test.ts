import assert from "node:assert/strict";
import {
  ARCHES,
  encode,
  ENOSYS,
  evaluate,
  fakeOwnershipProgram,
  prootCompatFilter,
  prootCompatProgram,
  RET_ALLOW,
  RET_ERRNO,
} from "../../../src/backends/seccomp.ts";
import {
  filterHex,
  withAccessFilter,
} from "../../../src/backends/proot_compat.ts";
import { affectsLauncher } from "../../../src/backends/launcher_env.ts";

const X86_64 = ARCHES.x86_64!.audit;
const AARCH64 = ARCHES.aarch64!.audit;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

Deno.test("fake ownership: chown family and set*id succeed on x86-64", () => {
  const p = fakeOwnershipProgram();
  for (const nr of [92, 93, 94, 260, 105, 106, 116, 117, 119]) {
    assert.equal(evaluate(p, { arch: X86_64, nr }), RET_ERRNO, `nr ${nr}`);
  }
  // read, write, openat, execve: allowed.
  for (const nr of [0, 1, 257, 59]) {
    assert.equal(evaluate(p, { arch: X86_64, nr }), RET_ALLOW, `nr ${nr}`);
  }
});

Deno.test("fake ownership: the x32 bit is masked off", () => {
  const p = fakeOwnershipProgram();
  assert.equal(
    evaluate(p, { arch: X86_64, nr: 0x40000000 | 92 }),
    RET_ERRNO,
  );
  assert.equal(evaluate(p, { arch: X86_64, nr: 0x40000000 | 1 }), RET_ALLOW);
});

Deno.test("fake ownership: the arch decides the numbers", () => {
  const p = fakeOwnershipProgram();
  // 92 is chown on x86-64 but an unrelated call on AArch64.
  assert.equal(evaluate(p, { arch: AARCH64, nr: 92 }), RET_ALLOW);
  assert.equal(evaluate(p, { arch: AARCH64, nr: 55 }), RET_ERRNO);
  // An unknown architecture is not filtered.
  assert.equal(evaluate(p, { arch: 0x12345678, nr: 92 }), RET_ALLOW);
});

Deno.test("fake ownership: only device nodes are faked by mknod", () => {
  const p = fakeOwnershipProgram();
  const mknodat = (mode: number) =>
    evaluate(p, { arch: X86_64, nr: 259, args: [0, 0, mode | 0o644] });
  assert.equal(mknodat(S_IFCHR), RET_ERRNO);
  assert.equal(mknodat(0o060000), RET_ERRNO);
  assert.equal(mknodat(S_IFIFO), RET_ALLOW);
  const mknod = evaluate(p, { arch: X86_64, nr: 133, args: [0, S_IFCHR] });
  assert.equal(mknod, RET_ERRNO);
  const aarch = evaluate(p, { arch: AARCH64, nr: 33, args: [0, 0, S_IFIFO] });
  assert.equal(aarch, RET_ALLOW);
});

Deno.test("proot compat: new path calls fail with ENOSYS, chown succeeds", () => {
  const p = prootCompatProgram();
  for (const nr of [439, 332, 316, 452]) {
    assert.equal(evaluate(p, { arch: X86_64, nr }), RET_ERRNO | ENOSYS);
  }
  assert.equal(evaluate(p, { arch: X86_64, nr: 92 }), RET_ERRNO);
  // setuid is left to proot's -0.
  assert.equal(evaluate(p, { arch: X86_64, nr: 105 }), RET_ALLOW);
  assert.equal(evaluate(p, { arch: X86_64, nr: 269 }), RET_ALLOW);
});

Deno.test("encode writes struct sock_filter, little-endian", () => {
  const bytes = encode([{ code: 0x06, jt: 1, jf: 2, k: 0x7fff0000 }]);
  assert.deepEqual([...bytes], [6, 0, 1, 2, 0, 0, 0xff, 0x7f]);
  assert.equal(encode(fakeOwnershipProgram()).length % 8, 0);
});

Deno.test("proot runs behind perl only with a filter and a known arch", () => {
  const spec = {
    rootfs: "/r",
    argv: ["true"],
    env: {},
    cwd: "/",
    terminal: false,
  };
  assert.deepEqual(withAccessFilter(spec, ["/proot"], "x86_64"), ["/proot"]);
  const withFilter = {
    ...spec,
    compatFilter: { perl: "/usr/bin/perl" },
  };
  const argv = withAccessFilter(withFilter, ["/proot"], "x86_64");
  assert.deepEqual(argv.slice(0, 2), ["/usr/bin/perl", "-e"]);
  assert.deepEqual(argv.slice(3), ["157", filterHex(), "/proot"]);
  assert.equal(filterHex().length, prootCompatFilter().length * 2);
  assert.match(filterHex(), /^[0-9a-f]+$/);
  assert.deepEqual(withAccessFilter(withFilter, ["/proot"], "riscv64"), [
    "/proot",
  ]);
});

Deno.test("Perl's variables never reach the host perl in front of proot", () => {
  for (const key of ["PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB"]) {
    assert.equal(affectsLauncher(key), true, key);
  }
  assert.equal(affectsLauncher("PERSON"), false);
});
