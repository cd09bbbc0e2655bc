import { createHash, timingSafeEqual } from 'node:crypto';

/** The OpenSSH fingerprint of a raw host key blob: `SHA256:` + unpadded base64, as `ssh-keygen -lf` prints. */
export function hostKeyFingerprint(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

export function fingerprintMatches(hostKey: Buffer, expected: string): boolean {
  const actual = Buffer.from(hostKeyFingerprint(hostKey));
  const wanted = Buffer.from(expected);
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}
