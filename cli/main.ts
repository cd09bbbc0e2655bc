import { Command } from 'commander';
import { registerRunCommands } from './commands.ts';

const program = new Command('ecoc').description('ecoc-hub: signed, delivered EU electronic Certificates of Conformity').showHelpAfterError();
registerRunCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  // Expected failures (bad config, busy ports, missing binaries) carry their own clear message.
  console.error(`ecoc: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
