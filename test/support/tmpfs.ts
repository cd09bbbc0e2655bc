import { execFileSync } from 'node:child_process';
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Fills the disk until `leaveBytes` are free (one filler file). */
  fill(leaveBytes: number): void;
  /** Removes the filler: the space is back. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

/**
 * A real, small filesystem at `dir` (a tmpfs mount; the tests run as root): writes beyond its
 * size fail with ENOSPC, as on a partner whose disk is full.
 */
export function mountSmallDisk(dir: string, sizeBytes: number): SmallDisk {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0777`, 'ecoc-small-disk', dir]);
  const filler = join(dir, '.filler');
  const freeBytes = () => {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  };
  return {
    dir,
    fill(leaveBytes) {
      writeFileSync(filler, Buffer.alloc(Math.max(0, freeBytes() - leaveBytes)));
    },
    free: () => rmSync(filler, { force: true }),
    freeBytes,
    unmount: () => execFileSync('umount', ['-l', dir]),
  };
}
