/**
 * Builds a busybox image from Debian's busybox-static as an OCI image layout
 * directory, so `polythene pull oci:DIR:latest` has something local to pull.
 *
 * Usage: `deno run -A scripts/busybox_image.ts DIR` (DIR is created).
 *
 * @module
 */

import { hostPlatform } from "../src/image/platform.ts";
import { buildImage, writeOciLayout } from "../tests/helpers/oci_image.ts";
import type { TarEntry } from "../tests/helpers/tar_writer.ts";
import { BUSYBOX } from "./busybox_rootfs.ts";

/**
 * The tar entries of a busybox root filesystem. `applets` (busybox's
 * `--list-full`) is asked of `busybox` itself unless given, as it must be
 * for a busybox of another architecture.
 */
export async function busyboxEntries(
  busybox = BUSYBOX,
  applets?: readonly string[],
): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  for (
    const dir of [
      "bin/",
      "sbin/",
      "usr/",
      "usr/bin/",
      "usr/sbin/",
      "etc/",
      "root/",
      "tmp/",
    ]
  ) {
    entries.push({
      name: dir,
      type: "dir",
      mode: dir === "tmp/" ? 0o1777 : dir === "root/" ? 0o700 : 0o755,
    });
  }
  entries.push({
    name: "bin/busybox",
    content: await Deno.readFile(busybox),
    mode: 0o755,
  });
  const list = applets ?? new TextDecoder().decode(
    (await new Deno.Command(busybox, { args: ["--list-full"] }).output())
      .stdout,
  ).split("\n");
  for (const applet of list) {
    if (applet === "" || applet === "bin/busybox") continue;
    entries.push({ name: applet, type: "symlink", linkname: "/bin/busybox" });
  }
  entries.push(
    {
      name: "etc/passwd",
      content:
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    },
    { name: "etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
    { name: "etc/os-release", content: 'NAME="busybox"\nID=busybox\n' },
  );
  return entries;
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (dir === undefined || dir.startsWith("-") || Deno.args.length > 1) {
    console.error("usage: busybox_image.ts DIR");
    Deno.exit(dir === "--help" || dir === "-h" ? 0 : 2);
  }
  const image = await buildImage({
    layers: [{ entries: await busyboxEntries(), compression: "gzip" }],
    config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    platform: hostPlatform(),
  });
  await writeOciLayout(dir, image, "latest");
  console.error(`busybox image written to ${dir} (tag latest)`);
}
