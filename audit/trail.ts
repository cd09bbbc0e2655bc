import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Database } from '../platform/database/prisma.ts';
import type { AuditVerification } from '../schemas/api/audit.ts';
import type { Config } from '../schemas/config/index.ts';
import { verifyAudit } from './verify.ts';
import { readWitnessFile, readWitnessWorkflow, witnessFilePath, type WitnessWorkflowView } from './witness.ts';

/**
 * The seal certificate as this process's configuration names it: ECOC_SIGNING_CERT_FILE, or the
 * generated software key's certificate under the data directory. (With a PKCS#11 token and no
 * certificate file, the certificate lives on the token; verification then trusts the
 * certificates the witness saw.)
 */
export function configuredSealCertificates(config: Pick<Config, 'ECOC_SIGNING_CERT_FILE' | 'ECOC_SIGNER' | 'ECOC_DATA_DIR'>): string[] {
  const file = config.ECOC_SIGNING_CERT_FILE ?? (config.ECOC_SIGNER === 'software' ? join(resolve(config.ECOC_DATA_DIR), 'signing', 'certificate.pem') : undefined);
  return file && existsSync(file) ? [readFileSync(file, 'utf8')] : [];
}

/**
 * Everything `ecoc audit verify` and `GET /api/v1/audit/verify` check: the database's records and
 * checkpoints, the witness workflow's history (through `client`; skipped on request or without a
 * Temporal connection, which the result then says) and the witness file if this host has one.
 */
export async function verifyAuditTrail(options: { db: Database; config: Config; client?: Client | undefined; skipWitnessWorkflow?: boolean }): Promise<AuditVerification> {
  const { db, config, client } = options;
  const notes: string[] = [];
  let witnessWorkflow: WitnessWorkflowView | null | { error: string } | undefined;
  if (options.skipWitnessWorkflow) notes.push('the witness workflow was not consulted (skipped on request)');
  else if (!client) notes.push('the witness workflow was not consulted (no Temporal connection)');
  else witnessWorkflow = await readWitnessWorkflow(client, config.ECOC_TASK_QUEUE).catch((error: unknown) => ({ error: (error as Error).message }));
  const path = witnessFilePath(config);
  const witnessFile = await readWitnessFile(path);
  if (!witnessFile) notes.push(`no witness file at ${path} on this host (it is written where the worker runs)`);
  const trustedCertificates = configuredSealCertificates(config);
  if (trustedCertificates.length === 0) notes.push('no seal certificate configured on this host: checkpoints are trusted only if signed by a certificate the witness saw');
  return verifyAudit(db, { trustedCertificates, witnessWorkflow, witnessFile, notes });
}
