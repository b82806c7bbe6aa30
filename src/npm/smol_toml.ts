/**
 * smol-toml, pinned, by its full `npm:` specifier (see `uuid.ts` for why).
 * Only the registries.conf loader imports it, and only lazily, on the pull
 * path: `exec`'s graph never does.
 *
 * @module
 */

export { parse, TomlError } from "npm:smol-toml@1.9.1";
