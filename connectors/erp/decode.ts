import { ErpFileError } from './errors.ts';

/**
 * Bytes to text, chunk by chunk: a fatal decoder so wrong encodings are errors rather than
 * silent replacement characters, and a running byte count for the size limit.
 */
export async function* decodeText(input: AsyncIterable<Uint8Array | string>, encoding: string, maxFileBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  let bytes = 0;
  let lines = 1;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    bytes += chunk.byteLength;
    if (bytes > maxFileBytes) throw new ErpFileError(`file exceeds the limit of ${maxFileBytes} bytes (stopped at line ${lines})`, 'file_too_large', lines);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      // Locate the first undecodable byte for the message: replacement decoding marks it.
      const lenient = new TextDecoder(encoding).decode(chunk);
      const before = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD')));
      throw new ErpFileError(`file is not valid ${encoding}: undecodable bytes at line ${lines + countLines(before)}`, 'encoding', lines + countLines(before));
    }
    lines += countLines(text);
    if (text.length > 0) yield text;
  }
  try {
    const rest = decoder.decode();
    if (rest.length > 0) yield rest;
  } catch {
    throw new ErpFileError(`file is not valid ${encoding}: truncated character at the end (line ${lines})`, 'encoding', lines);
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
