/**
 * Tiny static C programs the capability and store tests put into a rootfs,
 * built on the spot with the host's `gcc -static` (Debian's gcc and
 * libc6-dev), so that they run in any rootfs, busybox included.
 *
 * @module
 */

import { hostProgram } from "./cli.ts";

/**
 * `handle-probe encode PATH` prints the file handle of `PATH` as
 * `TYPE HEX` (`name_to_handle_at`). `handle-probe open TYPE HEX` opens that
 * handle with `open_by_handle_at(open("/"), ..., O_WRONLY | O_APPEND)`, the
 * "shocker" escape, and appends `escaped` to the file: it prints `opened`
 * and exits 0 when that worked, else `errno=N` and exits 1. The mount fd is
 * the sandbox's own `/`; the kernel then needs `CAP_DAC_READ_SEARCH` in the
 * initial user namespace to open a handle that lies outside it.
 */
export const HANDLE_PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  unsigned char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  struct file_handle *fh = (struct file_handle *)buf;
  if (argc == 3 && strcmp(argv[1], "encode") == 0) {
    int mount_id;
    fh->handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, argv[2], fh, &mount_id, 0) != 0) {
      printf("errno=%d\n", errno);
      return 1;
    }
    printf("%d ", fh->handle_type);
    for (unsigned i = 0; i < fh->handle_bytes; i++) printf("%02x", fh->f_handle[i]);
    printf("\n");
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "open") == 0) {
    size_t len = strlen(argv[3]) / 2;
    if (len > MAX_HANDLE_SZ) return 2;
    fh->handle_type = atoi(argv[2]);
    fh->handle_bytes = len;
    for (size_t i = 0; i < len; i++) sscanf(argv[3] + 2 * i, "%2hhx", &fh->f_handle[i]);
    int mount_fd = open("/", O_RDONLY | O_DIRECTORY);
    if (mount_fd < 0) { printf("open /: errno=%d\n", errno); return 1; }
    int fd = open_by_handle_at(mount_fd, fh, O_WRONLY | O_APPEND);
    if (fd < 0) { printf("errno=%d\n", errno); return 1; }
    if (write(fd, "escaped\n", 8) != 8) { printf("write errno=%d\n", errno); return 1; }
    printf("opened\n");
    return 0;
  }
  return 2;
}
`;

/** `euid-probe` prints `euid=N` with its effective uid. */
export const EUID_PROBE_C = String.raw`
#include <stdio.h>
#include <unistd.h>
int main(void) {
  printf("euid=%d\n", (int)geteuid());
  return 0;
}
`;

/** Why the probes cannot be built here (no gcc), or undefined. */
export function cProbesMissing(): string | undefined {
  return hostProgram("gcc") === undefined ? "gcc" : undefined;
}

/**
 * Builds `source` with `gcc -static -O2` into `dir/name` and returns that
 * path. Throws with gcc's stderr when it fails.
 */
export async function buildStatic(
  source: string,
  dir: string,
  name: string,
): Promise<string> {
  const src = `${dir}/${name}.c`;
  const out = `${dir}/${name}`;
  await Deno.writeTextFile(src, source);
  const result = await new Deno.Command(hostProgram("gcc")!, {
    args: ["-static", "-O2", "-o", out, src],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`gcc ${src}: ${new TextDecoder().decode(result.stderr)}`);
  }
  await Deno.remove(src);
  return out;
}
