/**
 * uuid, pinned, by its full `npm:` specifier, so that the library resolves
 * from any importer (a path, a URL), not only through this repository's
 * import map. Only pull imports it; `exec`'s graph never does.
 *
 * @module
 */

export { v7 } from "npm:uuid@14.0.3";
