/**
 * UTF-8 is the one encoding accepted for text that arrives as bytes (JSON bodies, XML files and
 * answers): a strict decoder refuses what a lenient one would silently turn into U+FFFD.
 */

const strict = new TextDecoder('utf-8', { fatal: true });

/** Why the bytes are not UTF-8 (naming the first bad byte's offset), or undefined when they are. */
export function utf8Problem(bytes: Uint8Array): string | undefined {
  try {
    strict.decode(bytes);
    return undefined;
  } catch {
    const offset = firstInvalidUtf8Byte(bytes);
    return `is not valid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0').toUpperCase()} at offset ${offset})`;
  }
}

/** The offset of the first byte that does not begin a complete, well-formed UTF-8 sequence (Unicode table 3-7), or -1. */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    let length: number;
    let [low, high] = [0x80, 0xbf];
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return index;
    if (index + length > bytes.length) return index;
    const second = bytes[index + 1]!;
    if (second < low || second > high) return index;
    for (let next = 2; next < length; next += 1) {
      const continuation = bytes[index + next]!;
      if (continuation < 0x80 || continuation > 0xbf) return index;
    }
    index += length;
  }
  return -1;
}
