import { startNapSimulatorProcess as startProcess, type NapSimulatorProcess } from '../../platform/nap-simulator-process.ts';
import type { TestPki } from './tls.ts';

export type { NapSimulatorProcess };

/** Starts the NAP simulator as its own process with the test PKI; ready when it prints its listening line. */
export function startNapSimulatorProcess(pki: TestPki, stateDir: string, port = 0): Promise<NapSimulatorProcess> {
  return startProcess({ certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caCert, stateDir, port, logLevel: 'warn' });
}
