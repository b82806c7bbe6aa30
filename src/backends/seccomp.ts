/**
 * Classic BPF seccomp programs, built here as bytes, that bwrap loads with
 * `--seccomp FD` (and that `proot_compat.ts` loads in front of proot).
 *
 * - {@linkcode fakeOwnershipFilter}: root emulation where only one id is
 *   mapped. The calls that change owners or ids (`chown` and friends, the
 *   `set*id` family, `setgroups`) and `mknod`/`mknodat` of device nodes
 *   return success without doing anything, as Charliecloud's
 *   `--force=seccomp` does; everything else is allowed.
 * - {@linkcode prootCompatFilter}: the path calls proot 5.1 does not know
 *   (`faccessat2`, `statx`, `renameat2`, `fchmodat2`) fail with `ENOSYS`,
 *   so the C library falls back to older calls, which proot translates.
 *   Untranslated, they reach the HOST's paths: `test -w PATH` or `stat PATH`
 *   would look at the host's PATH. The chown family succeeds without doing
 *   anything, as proot's `-0` makes it.
 *
 * Each program checks the architecture first: a block per architecture
 * (x86-64 with the x32 bit masked off, i386, AArch64, 32-bit ARM), each
 * ending in its own returns; any other architecture is allowed unfiltered.
 * This is not a security boundary: it only removes errors.
 *
 * @module
 */

// Instruction classes and fields (linux/bpf_common.h).
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K

/** `SECCOMP_RET_ALLOW`. */
export const RET_ALLOW = 0x7fff0000;
/** `SECCOMP_RET_ERRNO`; the low 16 bits are the errno (0: success). */
export const RET_ERRNO = 0x00050000;
/** `ENOSYS`. */
export const ENOSYS = 38;

// Offsets in struct seccomp_data; the arguments are 64-bit, and every
// architecture here is little-endian, so an argument's low half comes first.
const NR = 0;
const ARCH = 4;
const argOffset = (i: number) => 16 + 8 * i;

const X32_BIT = 0x40000000;
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** One architecture's system call numbers. */
export interface ArchTable {
  /** `AUDIT_ARCH_*`. */
  audit: number;
  /** Mask off the x32 ABI bit before comparing (x86-64). */
  x32: boolean;
  /** Calls faked as success: ownership and id changes. */
  ownership: number[];
  /** How many of `ownership`, from the start, are the chown family. */
  chownCount: number;
  /** `mknod` and `mknodat` numbers, each with its mode argument's index. */
  mknod: { nr: number; modeArg: number }[];
  /**
   * Path calls newer than proot 5.1, which passes them on untranslated:
   * `faccessat2`, `statx`, `renameat2`, `fchmodat2`.
   */
  newPathCalls: number[];
}

/** The architectures the programs know, by `AUDIT_ARCH_*`. */
export const ARCHES: Readonly<Record<string, ArchTable>> = {
  x86_64: {
    audit: 0xc000003e,
    x32: true,
    // chown fchown lchown fchownat setuid setgid setreuid setregid
    // setgroups setresuid setresgid setfsuid setfsgid
    chownCount: 4,
    ownership: [92, 93, 94, 260, 105, 106, 113, 114, 116, 117, 119, 122, 123],
    mknod: [{ nr: 133, modeArg: 1 }, { nr: 259, modeArg: 2 }],
    newPathCalls: [439, 332, 316, 452],
  },
  i386: {
    audit: 0x40000003,
    x32: false,
    // chown lchown fchown (16- and 32-bit ids) fchownat, then the id calls
    // and their 32-bit forms
    chownCount: 7,
    ownership: [
      182,
      16,
      95,
      212,
      198,
      207,
      298,
      23,
      46,
      70,
      71,
      81,
      164,
      170,
      138,
      139,
      213,
      214,
      203,
      204,
      206,
      208,
      210,
      215,
      216,
    ],
    mknod: [{ nr: 14, modeArg: 1 }, { nr: 297, modeArg: 2 }],
    newPathCalls: [439, 383, 353, 452],
  },
  aarch64: {
    audit: 0xc00000b7,
    x32: false,
    // fchownat fchown setregid setgid setreuid setuid setresuid setresgid
    // setfsuid setfsgid setgroups (no chown, lchown or mknod here)
    chownCount: 2,
    ownership: [54, 55, 143, 144, 145, 146, 147, 149, 151, 152, 159],
    mknod: [{ nr: 33, modeArg: 2 }],
    newPathCalls: [439, 291, 276, 452],
  },
  arm: {
    audit: 0x40000028,
    x32: false,
    chownCount: 7,
    ownership: [
      182,
      16,
      95,
      212,
      198,
      207,
      325,
      23,
      46,
      70,
      71,
      81,
      164,
      170,
      138,
      139,
      213,
      214,
      203,
      204,
      206,
      208,
      210,
      215,
      216,
    ],
    mknod: [{ nr: 14, modeArg: 1 }, { nr: 324, modeArg: 2 }],
    newPathCalls: [439, 397, 382, 452],
  },
};

/** One `struct sock_filter`. */
export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const op = (code: number, k: number, jt = 0, jf = 0): Instruction => ({
  code,
  jt,
  jf,
  k: k >>> 0,
});

/** What one architecture's block does. */
type BlockPlan = (table: ArchTable) => {
  /** Numbers whose call returns `RET_ERRNO | errno`. */
  errno: { nr: number; errno: number }[];
  /** Numbers faked as success when they create a device node. */
  devices: { nr: number; modeArg: number }[];
};

/**
 * One architecture's block: if the arch matches, load the number and jump to
 * the matching return; else skip the whole block.
 */
function archBlock(table: ArchTable, plan: BlockPlan): Instruction[] {
  const { errno, devices } = plan(table);
  const errnos = [...new Set(errno.map((e) => e.errno))];
  // Layout after the header: one compare per call, ALLOW, one return per
  // errno, then per device call: load mode, mask, two compares, ALLOW,
  // success.
  const head: Instruction[] = [op(LD_W_ABS, NR)];
  if (table.x32) head.push(op(AND_K, ~X32_BIT));
  const compares = errno.length + devices.length;
  const body: Instruction[] = [];
  const returnsAt = compares + 1; // index (from first compare) of errno rets
  const devicesAt = returnsAt + errnos.length;
  errno.forEach((e, i) => {
    const target = returnsAt + errnos.indexOf(e.errno);
    body.push(op(JEQ_K, e.nr, target - i - 1, 0));
  });
  devices.forEach((d, j) => {
    const i = errno.length + j;
    body.push(op(JEQ_K, d.nr, devicesAt + 6 * j - i - 1, 0));
  });
  body.push(op(RET_K, RET_ALLOW));
  for (const value of errnos) body.push(op(RET_K, RET_ERRNO | value));
  // BPF jumps only forward, so each device check has its own returns.
  for (const d of devices) {
    body.push(op(LD_W_ABS, argOffset(d.modeArg)));
    body.push(op(AND_K, S_IFMT));
    body.push(op(JEQ_K, S_IFCHR, 2, 0));
    body.push(op(JEQ_K, S_IFBLK, 1, 0));
    body.push(op(RET_K, RET_ALLOW));
    body.push(op(RET_K, RET_ERRNO));
  }
  const block = [...head, ...body];
  return [
    op(LD_W_ABS, ARCH),
    op(JEQ_K, table.audit, 0, block.length),
    ...block,
  ];
}

function program(plan: BlockPlan): Instruction[] {
  const out: Instruction[] = [];
  for (const table of Object.values(ARCHES)) {
    out.push(...archBlock(table, plan));
  }
  out.push(op(RET_K, RET_ALLOW));
  for (const ins of out) {
    if (ins.jt > 255 || ins.jf > 255 || ins.jt < 0 || ins.jf < 0) {
      throw new RangeError("Seccomp program: jump out of range");
    }
  }
  return out;
}

/** The fake-ownership program's instructions. Pure. */
export function fakeOwnershipProgram(): Instruction[] {
  return program((t) => ({
    errno: t.ownership.map((nr) => ({ nr, errno: 0 })),
    devices: t.mknod,
  }));
}

/** The proot-compatibility program's instructions. Pure. */
export function prootCompatProgram(): Instruction[] {
  return program((t) => ({
    errno: [
      ...t.newPathCalls.map((nr) => ({ nr, errno: ENOSYS })),
      // proot -0 turns EPERM from chown into success, but not the EINVAL
      // of an unmapped id (proot inside a single-id user namespace).
      ...t.ownership.slice(0, t.chownCount).map((nr) => ({ nr, errno: 0 })),
    ],
    devices: [],
  }));
}

/** Encodes instructions as `struct sock_filter` bytes (host order). Pure. */
export function encode(program: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k, true);
  });
  return bytes;
}

/** The fake-ownership filter, ready for `bwrap --seccomp FD`. Pure. */
export function fakeOwnershipFilter(): Uint8Array {
  return encode(fakeOwnershipProgram());
}

/** The proot-compatibility filter (see the module doc). Pure. */
export function prootCompatFilter(): Uint8Array {
  return encode(prootCompatProgram());
}

/**
 * Runs a classic BPF program in plain TypeScript against one call, the way
 * the kernel would: for tests and `doctor`. Pure.
 *
 * @returns The 32-bit return value.
 */
export function evaluate(
  program: readonly Instruction[],
  call: { arch: number; nr: number; args?: readonly number[] },
): number {
  let a = 0;
  let pc = 0;
  const word = (offset: number): number => {
    if (offset === NR) return call.nr >>> 0;
    if (offset === ARCH) return call.arch >>> 0;
    const i = (offset - 16) / 8;
    return (call.args?.[i] ?? 0) >>> 0;
  };
  while (pc < program.length) {
    const ins = program[pc]!;
    if (ins.code === LD_W_ABS) a = word(ins.k);
    else if (ins.code === AND_K) a = (a & ins.k) >>> 0;
    else if (ins.code === JEQ_K) {
      pc += a === ins.k ? ins.jt : ins.jf;
    } else if (ins.code === RET_K) return ins.k;
    else throw new RangeError(`Unknown opcode ${ins.code}`);
    pc++;
  }
  throw new RangeError("Seccomp program: fell off the end");
}

/** The fd bwrap reads the filter from: the status wrapper opens it. */
export { SECCOMP_FD } from "./status.ts";
