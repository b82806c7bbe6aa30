/**
 * A `HOME` for CLI runs that must not read this host's container
 * configuration: it holds `.config/containers/registries.conf` (which, as
 * in containers/image, makes `/etc/containers/registries.conf` and
 * `/etc/containers/registries.conf.d` unread) and keeps this process's
 * Deno cache, which the CLI needs for its npm packages.
 *
 * @module
 */

/** This process's Deno cache, to keep when `HOME` changes. */
export function denoDir(): string {
  return Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
}

/** An isolated home under `dir`. */
export interface IsolatedHome {
  /** The `HOME` directory. */
  home: string;
  /** Its `registries.conf` (created empty). */
  conf: string;
  /** Its drop-in directory (created). */
  dropIns: string;
  /** `HOME`, `DENO_DIR` and no update check, for `runPolythene`'s `env`. */
  env: Record<string, string>;
}

/** Makes `DIR/home` with an empty user registries.conf. */
export async function isolatedHome(dir: string): Promise<IsolatedHome> {
  const home = `${dir}/home`;
  const conf = `${home}/.config/containers/registries.conf`;
  await Deno.mkdir(`${conf}.d`, { recursive: true });
  await Deno.writeTextFile(conf, "");
  return {
    home,
    conf,
    dropIns: `${conf}.d`,
    // No update check: it would go through a test's proxy.
    env: { HOME: home, DENO_DIR: denoDir(), DENO_NO_UPDATE_CHECK: "1" },
  };
}
