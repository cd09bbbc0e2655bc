import type { Command } from 'commander';
import { verifyAuditChain } from '../audit/verify.ts';
import { loadConfig } from '../platform/config.ts';
import { withDatabase } from './database.ts';

/** `ecoc audit verify`: recompute the hash chain; exit 1 at the first record that does not fit. */
export function registerAuditCommands(program: Command): void {
  program
    .command('audit')
    .description('The append-only, hash-chained audit trail')
    .command('verify')
    .description('Recompute every record hash and link; report the first tampered record')
    .option('--json', 'print the result as JSON')
    .action((options: { json?: boolean }) =>
      withDatabase(loadConfig(), async (db) => {
        const result = await verifyAuditChain(db);
        if (options.json) console.log(JSON.stringify(result, null, 2));
        else if (result.ok) {
          console.log(`audit chain intact: ${result.checked} record(s) verified${result.legacyUnchained ? `, ${result.legacyUnchained} older unchained record(s) before it` : ''}${result.anchor ? `; starts after archived hash ${result.anchor}` : ''}; head ${result.head ?? '(empty)'}`);
        } else {
          const invalid = result.firstInvalid!;
          console.log(`audit chain BROKEN at record ${invalid.id} (${invalid.kind}): ${invalid.message}`);
          if (invalid.expected) console.log(`  expected ${invalid.expected}\n  actual   ${invalid.actual}`);
        }
        if (!result.ok) process.exitCode = 1;
      }),
    );
}
