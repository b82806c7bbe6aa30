/**
 * UTF-8 checks for tar names, which are bytes: Deno's file APIs take
 * strings, so a name that is not valid UTF-8 cannot be created as it is
 * (a lone byte would become U+FFFD, and two names could become one). Pure.
 *
 * @module
 */

const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether `bytes[start..end)` are valid UTF-8 (no overlong forms, no
 * surrogates). Pure; plain JavaScript without copies, as it runs on every
 * tar header.
 */
export function isUtf8(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): boolean {
  let i = start;
  while (i < end) {
    if (bytes[i]! < 0x80) {
      i += 1;
      continue;
    }
    const length = sequenceAt(bytes, i);
    if (length === 0 || i + length > end) return false;
    i += length;
  }
  return true;
}

/** Length of the valid UTF-8 sequence at `bytes[i]`, or 0. */
function sequenceAt(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  const [length, low, high] = b >= 0xc2 && b <= 0xdf
    ? [2, 0x80, 0xbf]
    : b === 0xe0
    ? [3, 0xa0, 0xbf]
    : b === 0xed
    ? [3, 0x80, 0x9f] // no surrogates
    : b >= 0xe1 && b <= 0xef
    ? [3, 0x80, 0xbf]
    : b === 0xf0
    ? [4, 0x90, 0xbf]
    : b >= 0xf1 && b <= 0xf3
    ? [4, 0x80, 0xbf]
    : b === 0xf4
    ? [4, 0x80, 0x8f]
    : [0, 0, 0];
  if (length === 0 || i + length > bytes.length) return 0;
  const second = bytes[i + 1]!;
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const c = bytes[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return length;
}

/**
 * `bytes` as text for a message: valid UTF-8 decoded, every other byte
 * written as `\xNN` (`n\xff`). Control characters are left to
 * `escapeControl`. Pure.
 */
export function showBytes(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceAt(bytes, i);
    if (length === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, "0")}`;
      i += 1;
    } else {
      out += strict.decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return out;
}
