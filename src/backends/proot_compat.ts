/**
 * proot 5.1 does not know the path calls newer than it: `faccessat2`
 * (Linux 5.8), which glibc 2.33 and later use for `test -w`/`test -x`
 * (`AT_EACCESS`), `statx` (`stat`, `ls`), `renameat2` (`mv -n`) and
 * `fchmodat2`. It passes them on untranslated, so the kernel looks at the
 * HOST's path: ucf's `[ ! -w /var/lib/ucf/hashfile ]` finds no such host
 * file and ucf stops with "do not have write privilege to the state data";
 * `stat FILE` in a maintainer script says "No such file or directory".
 *
 * The fix: host `perl` (Essential on Debian) installs a seccomp filter that
 * makes those calls fail with `ENOSYS` (`seccomp.ts`), then execs proot;
 * every tracee inherits it, and glibc falls back to the older calls, which
 * proot translates. The Perl script is a constant; the `prctl` number, the
 * filter (a constant too, in hex: no file to write or remove) and proot's
 * argv are positional arguments. Without `perl` proot runs bare.
 *
 * @module
 */

import type { RunSpec } from "./backend.ts";
import { prootCompatFilter } from "./seccomp.ts";

/**
 * Loads the filter given in hex as `$ARGV[1]` with `prctl` (syscall
 * `$ARGV[0]`): `PR_SET_NO_NEW_PRIVS` (38), then `PR_SET_SECCOMP` (22) with
 * `SECCOMP_MODE_FILTER` (2) and a `struct sock_fprog`; then execs the rest.
 */
export const ACCESS_LOADER = [
  'my ($nr, $prog) = (0 + shift, pack("H*", shift));',
  'syscall($nr, 38, 1, 0, 0, 0) == 0 or die "polythene: no_new_privs: $!\\n";',
  'my $fprog = pack("S x![P] P", length($prog) / 8, $prog);',
  'syscall($nr, 22, 2, $fprog, 0, 0) == 0 or die "polythene: seccomp: $!\\n";',
  'exec { $ARGV[0] } @ARGV or die "polythene: cannot run $ARGV[0]: $!\\n";',
].join("\n");

/** `prctl`'s syscall number on this machine, when known. Pure. */
export function prctlNumber(arch: string): number | undefined {
  return ({ x86_64: 157, aarch64: 167 } as Record<string, number>)[arch];
}

/** proot's argv, behind the loader when the spec has the filter. Pure. */
export function withAccessFilter(
  spec: RunSpec,
  argv: string[],
  arch: string = Deno.build.arch,
): string[] {
  const nr = prctlNumber(arch);
  if (spec.compatFilter === undefined || nr === undefined) return argv;
  return [
    spec.compatFilter.perl,
    "-e",
    ACCESS_LOADER,
    String(nr),
    filterHex(),
    ...argv,
  ];
}

/** The filter's bytes in hex, as the loader reads them. Pure. */
export function filterHex(): string {
  return [...prootCompatFilter()].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
