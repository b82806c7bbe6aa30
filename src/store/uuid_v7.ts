/**
 * New entry names: UUIDv7 (RFC 9562), so entries sort by creation time.
 * Written here rather than imported so that `exec --ephemeral` loads no npm
 * module.
 *
 * @module
 */

/**
 * A new UUIDv7 from `now` (milliseconds) and random bits.
 *
 * @param now Milliseconds since the epoch (default: the clock).
 * @param random 10 random bytes (default: `crypto.getRandomValues`).
 */
export function uuidV7(
  now: number = Date.now(),
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(10)),
): string {
  const bytes = new Uint8Array(16);
  let ms = Math.floor(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes.set(random.subarray(0, 10), 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
    hex.slice(16, 20)
  }-${hex.slice(20)}`;
}
