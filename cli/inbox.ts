import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { reportFileName } from '../connectors/erp/report.ts';
import { loadErpMappings, mappingFor } from '../inbox/mappings.ts';
import { inboxPoller, requestInboxPoll } from '../inbox/poller.ts';
import { processErpStream } from '../inbox/process-stream.ts';
import { loadConfig } from '../platform/config.ts';
import { createDatabase } from '../platform/database/prisma.ts';
import { reviewPolicy } from '../platform/review-policy.ts';
import { connectTemporalClient, temporalConnectionOptions } from '../platform/temporal/connection.ts';
import type { Config } from '../schemas/config/index.ts';
import { inboxStateQuery } from '../workflows/inbox/definitions.ts';

/** `ingest` (a local ERP file through the inbox's path) and `inbox poll|status`, against a running stack. */
export function registerInboxCommands(program: Command): void {
  program
    .command('ingest <file>')
    .description('Ingest a local ERP file (.csv, .json, .ndjson, .xlsx) exactly as the SFTP inbox would; writes <file>.report.json')
    .requiredOption('--manufacturer <id>', 'whose mapping applies (ECOC_ERP_MAPPINGS_FILE)')
    .option('--actor <id>', 'identity the data is submitted as (role integrator)', 'cli')
    .option('--report <path>', 'where to write the report (default: next to the file)')
    .action(async (file: string, options: { manufacturer: string; actor: string; report?: string }) => {
      const config = loadConfig();
      if (!config.ECOC_ERP_MAPPINGS_FILE) throw new Error('ecoc ingest needs ECOC_ERP_MAPPINGS_FILE (the ERP column mappings)');
      const mapping = mappingFor(await loadErpMappings(config.ECOC_ERP_MAPPINGS_FILE), options.manufacturer);
      await withStack(config, 'ingest', async ({ client, databaseUrl }) => {
        const db = createDatabase(databaseUrl);
        try {
          let shown = 0;
          const result = await processErpStream(createReadStream(file), {
            ingest: { db, client, taskQueue: config.ECOC_TASK_QUEUE, review: reviewPolicy(config), destinations: await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE) },
            mapping,
            fileName: basename(file),
            actor: { id: options.actor, roles: ['integrator'] },
            onProgress: ({ rowsDone }) => {
              if (rowsDone - shown < 1_000) return;
              shown = rowsDone;
              process.stderr.write(`${rowsDone} rows\n`);
            },
          });
          const reportPath = options.report ?? reportFileName(file);
          await writeFile(reportPath, `${JSON.stringify(result.report, null, 2)}\n`);
          console.log(JSON.stringify({ file, status: result.report.status, totals: result.report.totals, outcomes: result.outcomes, fileError: result.report.fileError, report: reportPath }));
          // 2: the file as a whole could not be read (the inbox would have moved it to rejected/).
          if (result.fileError) process.exitCode = 2;
        } finally {
          await db.$disconnect();
        }
      });
    });

  const inbox = program.command('inbox').description('The ERP inbox poller (one per task queue)');
  inbox
    .command('poll')
    .description('Poll the SFTP inbox now and wait for that poll to finish; prints the poller state')
    .option('--timeout <seconds>', 'how long to wait for the poll', '600')
    .action(async (options: { timeout: string }) => {
      const config = loadConfig();
      await withStack(config, 'inbox poll', async ({ client }) => {
        console.log(JSON.stringify(await requestInboxPoll(client, config.ECOC_TASK_QUEUE, Number(options.timeout) * 1_000), null, 2));
      });
    });
  inbox
    .command('status')
    .description("Print the poller's state: files seen/processed/rejected, the current file's progress, the last error")
    .action(async () => {
      const config = loadConfig();
      await withStack(config, 'inbox status', async ({ client }) => {
        console.log(JSON.stringify(await inboxPoller(client, config.ECOC_TASK_QUEUE).query(inboxStateQuery), null, 2));
      });
    });
}

async function withStack(config: Config, command: string, use: (stack: { client: Client; databaseUrl: string }) => Promise<void>): Promise<void> {
  if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) throw new Error(`ecoc ${command} needs TEMPORAL_ADDRESS and DATABASE_URL of the running stack`);
  const connection = await connectTemporalClient(temporalConnectionOptions(config), 5_000);
  try {
    await use({ client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), databaseUrl: config.DATABASE_URL });
  } finally {
    await connection.close();
  }
}
