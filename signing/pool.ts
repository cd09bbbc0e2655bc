import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PreparedSignature } from './sign-ivi.ts';
import { unwrap, type SignedIviCheck, type SigningWork, type TaskAnswer } from './work.ts';

export interface SigningPool extends SigningWork {
  readonly threads: number;
  /** Lets running tasks finish, then ends the threads. */
  close(): Promise<void>;
}

/**
 * The signing step's libxml2 work on worker threads, so one worker process signs on every core
 * while its main thread keeps the I/O (Temporal, PostgreSQL, the token). Create one per process;
 * each thread holds its own libxml2 instance and compiled XSD.
 */
export function createSigningPool(options: { threads?: number | undefined } = {}): SigningPool {
  const threads = options.threads ?? availableParallelism();
  const pool = new Piscina<unknown, unknown>({
    filename: new URL('./pool-thread.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // Threads stay up: each compiles the XSD once, on its first check.
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return {
    threads,
    prepare: async (input) => unwrap((await pool.run(input, { name: 'prepare' })) as TaskAnswer<PreparedSignature>),
    check: async (input) => unwrap((await pool.run(input, { name: 'check' })) as TaskAnswer<SignedIviCheck>),
    close: () => pool.close(),
  };
}
