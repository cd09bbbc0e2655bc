import { Command } from 'commander';
import { registerApprovalCommands } from './approvals.ts';
import { registerAuditCommands } from './audit.ts';
import { registerDemoCommands } from './demo.ts';
import { registerRunCommands } from './commands.ts';
import { registerInboxCommands } from './inbox.ts';
import { registerKeyCommands } from './keys.ts';
import { registerReleaseCommands } from './release.ts';

const program = new Command('ecoc').description('ecoc-hub: signed, delivered EU electronic Certificates of Conformity').showHelpAfterError();
registerRunCommands(program);
registerInboxCommands(program);
registerReleaseCommands(program);
registerKeyCommands(program);
registerAuditCommands(program);
registerApprovalCommands(program);
registerDemoCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  // Expected failures (bad config, busy ports, missing binaries) carry their own clear message.
  console.error(`ecoc: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
