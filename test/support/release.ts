import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mapWithConcurrency } from '../../platform/concurrency.ts';
import { waitFor } from '../../platform/wait.ts';
import { packageManifestSchema, type PackageManifest } from '../../connectors/delivery/sftp-package.ts';
import { approveUpdate } from '../../workflows/certificate/definitions.ts';
import type { CertificateStatus } from '../../schemas/certificate.ts';
import { actors, nextVin, specimenRecord, type LifecycleHarness } from './lifecycle.ts';
import { unzip } from './zip.ts';
import { exitOf } from './processes.ts';

export interface SeededCertificate {
  certificateId: string;
  vin: string;
}

/**
 * Brings `count` certificates for `destination` to awaiting_release the real way: ingest →
 * validate → generate → review (approved by a second person) → sign. Calls run `concurrency`
 * at a time; progress is read from the status projection, not by querying every workflow.
 */
export async function seedAwaitingRelease(h: LifecycleHarness, options: { count: number; destination: string; concurrency?: number; timeoutMs?: number }): Promise<SeededCertificate[]> {
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const vins = Array.from({ length: options.count }, () => nextVin());
  const ingested = await mapWithConcurrency(vins, concurrency, async (vin) => ({ vin, ...(await h.ingest(specimenRecord(vin, { destination: options.destination }))) }));
  const ids = ingested.map((entry) => entry.certificateId);
  await waitForProjection(h, ids, 'in_review', timeoutMs);
  await mapWithConcurrency(ingested, concurrency, (entry) =>
    h.client.workflow.getHandle(entry.certificateId).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: entry.dataVersion }] }),
  );
  await waitForProjection(h, ids, 'awaiting_release', timeoutMs);
  return ingested.map(({ certificateId, vin }) => ({ certificateId, vin }));
}

/** Waits until every listed certificate's projected status is `status`; a failed or blocked one stops the wait. */
export async function waitForProjection(h: LifecycleHarness, certificateIds: string[], status: CertificateStatus, timeoutMs = 600_000): Promise<void> {
  let counts: Record<string, number> = {};
  const wentWrong = () => (counts.failed ?? 0) > 0 || (counts.blocked ?? 0) > 0;
  try {
    await waitFor(
      async () => {
        const groups = await h.db.certificate.groupBy({ by: ['status'], where: { id: { in: certificateIds } }, _count: true });
        counts = Object.fromEntries(groups.map((group) => [group.status, group._count]));
        if (wentWrong()) throw new Error('a certificate failed or was blocked');
        return counts[status] === certificateIds.length;
      },
      { timeoutMs, intervalMs: 500, what: `${certificateIds.length} certificates in state ${status}`, fatal: wentWrong },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; statuses now ${JSON.stringify(counts)}`, { cause: error });
  }
}

export interface DeliveredPackage {
  name: string;
  manifest: PackageManifest;
}

/** The packages on a partner's SFTP directory, with their manifests (read from the zips). */
export async function readPackages(dir: string): Promise<DeliveredPackage[]> {
  const names = readdirSync(dir).filter((name) => name.endsWith('.zip')).sort();
  return Promise.all(
    names.map(async (name) => {
      const entries = await unzip(join(dir, name));
      return { name, manifest: packageManifestSchema.parse(JSON.parse(entries.get('manifest.json')!.toString('utf8'))) };
    }),
  );
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code or signal name. */
  exited: Promise<number | string>;
  output(): string;
}

const WORKER_MAIN = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** Starts test/support/worker-process.ts with this environment; resolves once it polls. */
export async function startWorkerProcess(bundlePath: string, env: Record<string, string>): Promise<WorkerProcess> {
  // One process (node with the tsx loader), so SIGKILL hits the worker itself.
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN, bundlePath], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process not ready after 120 s: ${output}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('"event":"ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited with ${code}: ${output}`));
    });
  });
  return { child, exited, output: () => output };
}
