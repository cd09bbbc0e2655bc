import { createHash } from 'node:crypto';
import { canonicalJson } from '../platform/hash.ts';

/** One chain's head as a checkpoint commits to it: [chain, seq, hash]. */
export type CheckpointLeaf = [chain: string, seq: number, hash: string];

/** Code-unit order of chain names (the same everywhere, unlike a database collation). */
export function compareChains(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 6962 leaf hash: SHA-256(0x00 || canonical JSON of the leaf). */
export function leafHash(leaf: CheckpointLeaf): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(canonicalJson(leaf)).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/**
 * Merkle tree hash as in RFC 6962 §2.1 (split at the largest power of two below n), over leaves
 * sorted by chain; hex. The empty tree hashes to SHA-256 of nothing.
 */
export function merkleRoot(leaves: CheckpointLeaf[]): string {
  const sorted = [...leaves].sort((a, b) => compareChains(a[0], b[0]));
  if (sorted.length === 0) return createHash('sha256').digest('hex');
  return treeHash(sorted.map(leafHash)).toString('hex');
}

function treeHash(hashes: Buffer[]): Buffer {
  if (hashes.length === 1) return hashes[0]!;
  let split = 1;
  while (split * 2 < hashes.length) split *= 2;
  return nodeHash(treeHash(hashes.slice(0, split)), treeHash(hashes.slice(split)));
}
