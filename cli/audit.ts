import { Client } from '@temporalio/client';
import { connectTemporalClient, temporalConnectionOptions } from '../platform/temporal/connection.ts';
import type { Command } from 'commander';
import { verifyAuditTrail } from '../audit/trail.ts';
import { loadConfig } from '../platform/config.ts';
import type { AuditVerification } from '../schemas/api/audit.ts';
import type { Config } from '../schemas/config/index.ts';
import { auditWitnessWorkflowId, checkpointNowUpdate } from '../workflows/audit/definitions.ts';
import { withDatabase } from './database.ts';

/** `ecoc audit verify` and `ecoc audit checkpoint`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The append-only audit trail: per-certificate chains, MACs, signed checkpoints and their witness');
  audit
    .command('verify')
    .description('Check every chain, MAC, checkpoint and signature against the witness; exit 1 naming the first place that does not fit')
    .option('--json', 'print the result as JSON')
    .option('--skip-witness', 'do not read the witness workflow from Temporal (the result says so)')
    .action((options: { json?: boolean; skipWitness?: boolean }) => {
      const config = loadConfig();
      return withDatabase(config, async (db) => {
        const check = (client?: Client) => verifyAuditTrail({ db, config, client, skipWitnessWorkflow: options.skipWitness ?? false });
        const result = options.skipWitness ? await check() : await withTemporal(config, check);
        if (options.json) console.log(JSON.stringify(result, null, 2));
        else console.log(describe(result));
        if (!result.ok) process.exitCode = 1;
      });
    });
  audit
    .command('checkpoint')
    .description('Have the witness take a signed checkpoint now (needs a running worker) and print it')
    .option('--json', 'print the checkpoint as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      await withTemporal(config, async (client) => {
        const handle = client.workflow.getHandle(auditWitnessWorkflowId(config.ECOC_TASK_QUEUE));
        const answer = await handle.executeUpdate(checkpointNowUpdate).catch((error: unknown) => {
          throw new Error(`the audit witness (workflow ${handle.workflowId}) did not answer: ${(error as Error).message}. It is started by the worker (ecoc start / ecoc worker).`, { cause: error });
        });
        if (options.json) console.log(JSON.stringify(answer, null, 2));
        else if (answer.error) console.log(`checkpoint failed: ${answer.error}`);
        else if (answer.last) console.log(`checkpoint ${answer.last.number} at ${answer.last.createdAt}: ${answer.last.leafCount} chain(s), root ${answer.last.root}, digest ${answer.last.digest}`);
        else console.log('no checkpoint yet: the audit trail is empty');
        if (answer.error) process.exitCode = 1;
      });
    });
}

/** The Temporal connection of the configured or embedded server (as `ecoc release` does). */
async function withTemporal<T>(config: Config, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectTemporalClient(temporalConnectionOptions(config), 5_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; reading the audit witness needs Temporal, --skip-witness checks the database alone`, { cause: error });
  });
  try {
    return await work(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }));
  } finally {
    await connection.close();
  }
}

export function describe(result: AuditVerification): string {
  const lines: string[] = [];
  const { records, checkpoints, witness } = result;
  if (result.ok) {
    lines.push(
      `audit trail intact: ${records.checked} record(s) in ${records.chains} chain(s) verified` +
        (result.legacy ? ` (legacy segment: ${result.legacy.records} record(s)${result.legacy.unchained ? `, ${result.legacy.unchained} from before chaining` : ''}${result.legacy.anchor ? `, starts after archived hash ${result.legacy.anchor}` : ''})` : '') +
        `; ${checkpoints.checked} checkpoint(s)${checkpoints.last ? `, last ${checkpoints.last.number} at ${checkpoints.last.createdAt}` : ''}; ${records.afterLastCheckpoint} record(s) since the last checkpoint`,
    );
  } else {
    const first = result.firstInvalid!;
    const where = [first.chain ? `chain ${first.chain}` : undefined, first.seq !== undefined ? `seq ${first.seq}` : undefined, first.id ? `record ${first.id}` : undefined, first.checkpoint !== undefined ? `checkpoint ${first.checkpoint}` : undefined]
      .filter(Boolean)
      .join(', ');
    lines.push(`audit trail BROKEN${where ? ` at ${where}` : ''} (${first.kind}): ${first.message}`);
    if (first.expected) lines.push(`  expected ${first.expected}`);
    if (first.actual) lines.push(`  actual   ${first.actual}`);
    if (result.problems.length > 1) lines.push(`${result.problems.length - 1} more problem(s):`, ...result.problems.slice(1).map((problem) => `  - ${problem.kind}: ${problem.message}`));
  }
  if (witness.workflow) lines.push(`witness workflow ${witness.workflow.workflowId}: ${witness.workflow.checked} checkpoint(s) compared, last ${witness.workflow.last ?? 'none'}`);
  if (witness.file) lines.push(`witness file ${witness.file.path}: ${witness.file.checked} checkpoint(s) compared, last ${witness.file.last ?? 'none'}`);
  if (checkpoints.pendingWitness.length) lines.push(`checkpoint(s) ${checkpoints.pendingWitness.join(', ')} not yet witnessed (made moments ago)`);
  for (const note of witness.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
