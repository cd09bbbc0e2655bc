import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../../../platform/logger.ts';
import { startNapSimulator } from './server.ts';

/**
 * `tsx connectors/nap/simulator/main.ts --port 0 --cert … --key … --ca … --state-dir …`
 * When ready it prints the JSON line `{"event":"listening","url":…,"port":…}` on stdout
 * (between pino's JSON log lines).
 */
const program = new Command('nap-simulator')
  .requiredOption('--port <port>', 'TCP port (0 picks a free one)', (value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port number');
    return port;
  })
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .requiredOption('--cert <file>', 'server certificate (PEM)')
  .requiredOption('--key <file>', 'server private key (PEM)')
  .requiredOption('--ca <file>', 'CA that client certificates must be issued by (PEM)')
  .requiredOption('--state-dir <dir>', 'where received messages and state are kept')
  .option('--log-level <level>', 'pino log level', 'info');

program.parse();
const options = program.opts<{ port: number; host: string; cert: string; key: string; ca: string; stateDir: string; logLevel: string }>();
const logger = createLogger(options.logLevel);
const simulator = await startNapSimulator({
  port: options.port,
  host: options.host,
  certFile: options.cert,
  keyFile: options.key,
  caFile: options.ca,
  stateDir: options.stateDir,
  logger,
});
// A start after its parent was SIGKILLed finds it here (platform/infrastructure.ts stopLeftoverServers).
writeFileSync(join(options.stateDir, 'server.pid'), `${process.pid}\n`);
process.stdout.write(`${JSON.stringify({ event: 'listening', url: simulator.url, port: simulator.port })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
