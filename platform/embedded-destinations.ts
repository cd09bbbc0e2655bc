import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Destination } from '../schemas/config/destinations.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { ensureLocalPki, type LocalPki } from './local-pki.ts';
import type { Logger } from './logger.ts';
import { startNapSimulatorProcess } from './nap-simulator-process.ts';
import type { ReadinessCheck } from './readiness.ts';

export const EMBEDDED_NAP_ID = 'nap-simulator';
export const EMBEDDED_ARCHIVE_ID = 'archive';
export const NAP_SIMULATOR_DESCRIPTION = 'NAP simulator: a local stand-in for a National Access Point, not a real one (nothing leaves this machine)';

/** Where `ecoc start` writes the embedded destinations (one-shot commands read it from there too). */
export function embeddedDestinationsFile(dataDir: string): string {
  return join(dataDir, 'destinations.embedded.json');
}

export interface EmbeddedDestinations {
  /** The destinations file written for them (`ECOC_DESTINATIONS_FILE` for the rest of the stack). */
  file: string;
  destinations: Destination[];
  /** The simulator answers over mutual TLS with the client certificate the stack uses. */
  probe(): Promise<ReadinessCheck>;
  stop(): Promise<void>;
}

/**
 * What `ecoc start` delivers to when no destinations file is configured, so a certificate's whole
 * life runs on the defaults: the NAP simulator as a local process (HTTPS with mutual TLS, keys
 * generated once under `<dataDir>/nap-simulator/pki`) and an archive folder
 * (`<dataDir>/archive`). They are written as an ordinary destinations file, which the worker,
 * the API and the release service then read as they would a configured one.
 */
export async function startEmbeddedDestinations(options: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedDestinations> {
  const logger = options.logger.child({ component: 'nap-simulator' });
  const base = join(options.dataDir, 'nap-simulator');
  const pki = await ensureLocalPki(join(base, 'pki'), 'ecoc-hub NAP simulator');
  const simulator = await startNapSimulatorProcess({
    certFile: pki.serverCert,
    keyFile: pki.serverKey,
    caFile: pki.caCert,
    stateDir: join(base, 'state'),
    port: options.port,
    logLevel: 'info',
    logger,
  });
  logger.info({ url: simulator.url, destination: EMBEDDED_NAP_ID }, `${NAP_SIMULATOR_DESCRIPTION}: listening`);
  const destinations: Destination[] = [
    {
      id: EMBEDDED_NAP_ID,
      kind: 'nap',
      description: NAP_SIMULATOR_DESCRIPTION,
      url: simulator.url,
      clientCertFile: pki.clientCert,
      clientKeyFile: pki.clientKey,
      caFile: pki.caCert,
      soapVersion: '1.1',
    },
    { id: EMBEDDED_ARCHIVE_ID, kind: 'archive', description: 'local archive folder: signed messages and receipts as files', dir: join(options.dataDir, 'archive') },
  ];
  const file = embeddedDestinationsFile(options.dataDir);
  try {
    await writeFileAtomic(file, `${JSON.stringify(destinations, null, 2)}\n`);
  } catch (error) {
    await simulator.stop();
    throw error;
  }
  const health = new URL('/health', simulator.url);
  return {
    file,
    destinations,
    async probe() {
      if (!simulator.running()) return { ok: false, detail: 'NAP simulator: the process has exited', data: { simulator: true } };
      const status = await mutualTlsStatus(health, pki);
      return status === 200
        ? { ok: true, detail: `${EMBEDDED_NAP_ID}: ${NAP_SIMULATOR_DESCRIPTION}; ${EMBEDDED_ARCHIVE_ID}: local archive folder`, data: { simulator: true, destinations: destinations.map((d) => d.id) } }
        : { ok: false, detail: `NAP simulator answered ${status}`, data: { simulator: true } };
    },
    stop: () => simulator.stop(),
  };
}

function mutualTlsStatus(url: URL, pki: LocalPki): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), ca: readFileSync(pki.caCert), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}
