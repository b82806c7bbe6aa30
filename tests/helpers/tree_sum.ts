/**
 * A checksum of a whole tree, as the tests compare entries byte for byte:
 * every path with its type, mode, owner, size, mtime, link target and
 * content digest. Links are never followed.
 *
 * @module
 */

/** One line per path, sorted; equal trees give equal sums. */
export async function treeLines(root: string): Promise<string[]> {
  const lines: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for (const name of names.sort()) {
      const path = `${dir}/${name}`;
      const at = `${rel}/${name}`;
      const info = await Deno.lstat(path);
      const head = `${at} ${info.mode?.toString(8)} ${info.uid}:${info.gid} ` +
        `${info.mtime?.getTime()}`;
      if (info.isSymlink) {
        lines.push(`${head} -> ${await Deno.readLink(path)}`);
      } else if (info.isDirectory) {
        lines.push(`${head} dir`);
        await walk(path, at);
      } else if (info.isFile) {
        const bytes = await Deno.readFile(path);
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", bytes),
        );
        const hex = [...digest].map((b) => b.toString(16).padStart(2, "0"))
          .join("");
        lines.push(`${head} ${info.size} ${hex}`);
      } else {
        lines.push(`${head} rdev=${info.rdev}`);
      }
    }
  }
  const top = await Deno.lstat(root);
  lines.push(
    `/ ${top.mode?.toString(8)} ${top.uid}:${top.gid} ${top.mtime?.getTime()}`,
  );
  await walk(root, "");
  return lines;
}
