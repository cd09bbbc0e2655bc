import type { Client } from '@temporalio/client';
import type { DeliveryChannel } from '../connectors/delivery/channel.ts';
import type { KeySigner } from '../connectors/hsm/signer.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { SigningWork } from '../signing/work.ts';
import type { Config } from '../schemas/config/index.ts';

/** What activities are built from; tests pass real components configured for the test. */
export interface ActivityDependencies {
  db: Database;
  logger: Logger;
  config: Config;
  /** The sealing key (software or PKCS#11), opened once per worker. */
  signer: KeySigner;
  /** Where signing parses, canonicalises, verifies and validates: the worker's thread pool; unset, the activity's own thread. */
  signingWork?: SigningWork | undefined;
  /** The channel for a configured destination (opened on first use, then reused). */
  channel(destinationId: string): Promise<DeliveryChannel>;
  /** Talks to other workflows (the release workflow claims certificates through their Updates). */
  client: Client;
}
