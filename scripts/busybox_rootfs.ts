/**
 * Builds a busybox root filesystem from Debian's busybox-static, for tests
 * and the README demo.
 *
 * Usage: `deno run -A scripts/busybox_rootfs.ts STORE` prints the new UUID.
 *
 * @module
 */

/** Where Debian's busybox-static puts the binary. */
export const BUSYBOX = "/bin/busybox";

/**
 * Creates `store/<uuid>/` holding a minimal busybox rootfs: `/bin/busybox`
 * with a symlink for each applet, `/etc/passwd`, and empty `/proc`, `/dev`,
 * `/tmp` and `/root`. `applets` (`--list-full`) is asked of `busybox`
 * unless given, as it must be for a busybox of another architecture.
 *
 * @returns The new entry's UUID.
 */
export async function makeBusyboxRootfs(
  store: string,
  busybox = BUSYBOX,
  applets?: readonly string[],
): Promise<string> {
  const uuid = crypto.randomUUID();
  const root = `${store}/${uuid}`;
  await Deno.mkdir(store, { recursive: true, mode: 0o700 });
  const tmp = `${store}/.tmp-${uuid}`;
  for (
    const dir of [
      "bin",
      "sbin",
      "usr/bin",
      "usr/sbin",
      "etc",
      "proc",
      "dev",
      "root",
      "tmp",
    ]
  ) {
    await Deno.mkdir(`${tmp}/${dir}`, { recursive: true });
  }
  await Deno.chmod(`${tmp}/tmp`, 0o1777);
  await Deno.chmod(`${tmp}/root`, 0o700);
  await Deno.copyFile(busybox, `${tmp}/bin/busybox`);
  await Deno.chmod(`${tmp}/bin/busybox`, 0o755);
  for (const applet of applets ?? await appletsOf(busybox)) {
    if (applet === "" || applet === "bin/busybox") continue;
    try {
      await Deno.symlink("/bin/busybox", `${tmp}/${applet}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  await Deno.writeTextFile(
    `${tmp}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  await Deno.writeTextFile(`${tmp}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
  await Deno.rename(tmp, root);
  return uuid;
}

/** `busybox --list-full`, asked of `busybox` itself. */
async function appletsOf(busybox: string): Promise<string[]> {
  const list = await new Deno.Command(busybox, { args: ["--list-full"] })
    .output();
  if (!list.success) throw new Error(`${busybox} --list-full failed`);
  return new TextDecoder().decode(list.stdout).split("\n");
}

if (import.meta.main) {
  const store = Deno.args[0];
  if (store === undefined) {
    console.error("usage: busybox_rootfs.ts STORE");
    Deno.exit(2);
  }
  console.log(await makeBusyboxRootfs(store));
}
