/**
 * modern-tar, pinned, by its full `npm:` specifier, so that the library
 * resolves from any importer (a path, a URL), not only through this
 * repository's import map. One module per package: only what imports it
 * (pull) loads it; `exec`'s graph never does.
 *
 * @module
 */

export * from "npm:modern-tar@0.8.6";
