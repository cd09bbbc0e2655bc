import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { RefusedError } from '../auth/permissions.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { CERTIFICATE_WORKFLOW_TYPE, certificateWorkflowId, submitDataUpdate } from '../workflows/certificate/definitions.ts';
import type { Actor, CertificateInput, CertificateState, DataVersionRef, ReviewPolicy } from '../schemas/certificate.ts';
import { discardRefusedVersion, storeDataVersion } from './store.ts';

export interface IngestContext {
  db: Database;
  client: Client;
  taskQueue: string;
  review: ReviewPolicy;
  /** Ids of the configured delivery destinations: a record naming another one is refused. */
  destinations: readonly string[];
}

export interface IngestResult {
  certificateId: string;
  dataVersion: number;
  /** `created`: a new certificate; `corrected`: new data for an existing one; `unchanged`: same data again. */
  outcome: 'created' | 'corrected' | 'unchanged';
  status: CertificateState['status'];
}

/**
 * One path for every source (ERP file, API, CLI): store the data version, then start the
 * certificate workflow or hand it the new version in one update-with-start. The workflow id is
 * derived from VIN and stage, so a vehicle can never get a second certificate, and a retried
 * call after a crash re-sends the same version, which the workflow accepts as a no-op.
 */
export async function ingestVehicle(
  context: IngestContext,
  record: VehicleRecord,
  actor: Actor,
  source: DataVersionRef['source'],
): Promise<IngestResult> {
  assertDestinationConfigured(record.destination, context.destinations);
  const certificateId = certificateWorkflowId(record.vin, record.stage);
  const stored = await storeDataVersion(context.db, certificateId, record, { source, submittedBy: actor.id });
  // The routing fields travel with the version, so the workflow follows a changed destination or approval.
  const ref: DataVersionRef = {
    dataVersion: stored.dataVersion,
    dataHash: stored.dataHash,
    by: actor,
    source,
    typeApprovalNumber: record.typeApprovalNumber,
    destination: record.destination ?? null,
    authors: stored.authors,
  };
  const start: CertificateInput = {
    certificateId,
    vin: record.vin,
    stage: record.stage,
    manufacturerId: record.manufacturerId,
    typeApprovalNumber: record.typeApprovalNumber,
    destination: record.destination,
    data: ref,
    review: context.review,
  };
  const state = await context.client.workflow
    .executeUpdateWithStart(submitDataUpdate, {
      args: [ref],
      startWorkflowOperation: new WithStartWorkflowOperation<(input: CertificateInput) => Promise<CertificateState>>(CERTIFICATE_WORKFLOW_TYPE, {
        workflowId: certificateId,
        taskQueue: context.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [start],
      }),
    })
    .catch(async (error: unknown) => {
      // The workflow said no (its validator refused): the version never became the certificate's data.
      if (error instanceof WorkflowUpdateFailedError) await discardRefusedVersion(context.db, stored);
      throw error;
    });
  return {
    certificateId,
    dataVersion: stored.dataVersion,
    outcome: stored.unchanged ? 'unchanged' : stored.created ? 'created' : 'corrected',
    status: state.status,
  };
}

/** A destination nobody configured would only fail at delivery: refused now, naming the ones that exist. */
function assertDestinationConfigured(destination: string | undefined, configured: readonly string[]): void {
  if (destination === undefined || configured.includes(destination)) return;
  throw new RefusedError('invalid', `destination "${destination}" is not configured; configured: ${configured.length > 0 ? configured.join(', ') : 'none (set ECOC_DESTINATIONS_FILE)'}`);
}
