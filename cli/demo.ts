import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { loadDemo } from '../demo/load.ts';
import { loadConfig } from '../platform/config.ts';
import { embeddedDestinationsFile } from '../platform/embedded-destinations.ts';
import { reviewPolicy } from '../platform/review-policy.ts';
import { connectTemporalClient, temporalConnectionOptions } from '../platform/temporal/connection.ts';
import { withDatabase } from './database.ts';

/** `ecoc demo`: demo data on a running stack (`npm start`), so every console page has something to show. */
export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('Load demo data into a running stack: a type approval, an API key per role (printed once) and 25 vehicles in varied states; idempotent, refused on a database with real data')
    .action(async () => {
      const config = loadConfig();
      const embedded = embeddedDestinationsFile(resolve(config.ECOC_DATA_DIR));
      const destinations = await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE ?? (existsSync(embedded) ? embedded : undefined));
      const connection = await connectTemporalClient(temporalConnectionOptions(config), 5_000);
      try {
        const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
        const result = await withDatabase(config, (db) => loadDemo({ db, client, taskQueue: config.ECOC_TASK_QUEUE, review: reviewPolicy(config), destinations }));
        console.log(JSON.stringify(result, null, 2));
        if (result.keys) process.stderr.write('The API keys above are shown once: keep the ones you need.\n');
      } finally {
        await connection.close();
      }
    });
}
