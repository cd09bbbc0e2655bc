import { upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { CertificateInput, CertificateState, CertificateStatus, DataVersionRef, DeliveryReceipt } from '../../schemas/certificate.ts';
import { EcocBatchId, EcocDestination, EcocManufacturer, EcocOwner, EcocReviewDeadline, EcocStage, EcocStatus, EcocTypeApprovalNumber, EcocVin } from '../search-attributes.ts';
import type { AuditEntry } from './audit.ts';
import type { ReleaseClaim } from './definitions.ts';

export const SYSTEM = 'system';

/**
 * One certificate's state and what it owes the outside: audit entries not yet written (handed
 * to the next activity) and the search attributes operators filter on. Every change of status
 * goes through `moveTo`, so transitions, audit and search attributes cannot drift apart.
 */
export class Certificate {
  readonly state: CertificateState;
  private readonly pendingAudit: AuditEntry[];

  constructor(input: CertificateInput) {
    this.state = input.carried ?? {
      certificateId: input.certificateId,
      vin: input.vin,
      stage: input.stage,
      manufacturerId: input.manufacturerId,
      typeApprovalNumber: input.typeApprovalNumber,
      destination: input.destination,
      status: 'received',
      dataVersion: input.data.dataVersion,
      dataHash: input.data.dataHash,
      submittedBy: input.data.by.id,
      lastChangedBy: input.data.by.id,
      ...(input.data.authors ? { authors: input.data.authors } : {}),
      messageVersion: 1,
      owner: input.initialOwner,
      escalated: false,
      releaseImmediately: false,
      receipts: [],
      transitions: [{ from: 'received', to: 'received', actor: input.data.by.id, at: nowIso(), note: `data v${input.data.dataVersion} from ${input.data.source}` }],
    };
    this.pendingAudit = input.carried ? [] : [this.entry('ingested', input.data.by.id, undefined, 'received', { source: input.data.source })];
  }

  get status(): CertificateStatus {
    return this.state.status;
  }

  moveTo(status: CertificateStatus, actor: string, note?: string): void {
    const from = this.state.status;
    this.state.status = status;
    this.state.transitions.push({ from, to: status, actor, at: nowIso(), note });
    this.pendingAudit.push(this.entry(`status:${status}`, actor, from, status, note ? { note } : undefined));
    this.publish();
  }

  /** An audit entry for something that happened without a change of status. */
  record(action: string, actor: string, detail?: Record<string, unknown>): void {
    this.pendingAudit.push(this.entry(action, actor, this.state.status, this.state.status, detail));
  }

  /** Search attributes as the state stands (all of them: each upsert replaces what it names). */
  publish(): void {
    const { state } = this;
    upsertSearchAttributes([
      { key: EcocStatus, value: state.status },
      { key: EcocVin, value: state.vin },
      { key: EcocStage, value: state.stage },
      { key: EcocManufacturer, value: state.manufacturerId },
      { key: EcocTypeApprovalNumber, value: state.typeApprovalNumber },
      { key: EcocDestination, value: state.destination ?? null },
      { key: EcocOwner, value: state.owner ?? null },
      { key: EcocBatchId, value: state.batchId ?? null },
      { key: EcocReviewDeadline, value: state.reviewDeadline ? new Date(state.reviewDeadline) : null },
    ].map(({ key, value }) => (value === null ? { key, value: null } : { key, value })) as Parameters<typeof upsertSearchAttributes>[0]);
  }

  /** Hands pending audit entries to the next activity, which writes them in its own transaction. */
  takeAudit(): AuditEntry[] {
    return this.pendingAudit.splice(0, this.pendingAudit.length);
  }

  hasPendingAudit(): boolean {
    return this.pendingAudit.length > 0;
  }

  /**
   * A new data version: it replaces the data and whatever routing it changes (type approval,
   * destination), so release, withdrawal and the search attributes follow the latest version.
   */
  acceptData(ref: DataVersionRef): void {
    const { state } = this;
    state.dataVersion = ref.dataVersion;
    state.dataHash = ref.dataHash;
    // The store names every author of the version; a caller that does not is counted on top of who changed the data so far.
    state.authors = ref.authors ?? [...new Set([...(state.authors ?? [state.submittedBy, state.lastChangedBy]), ref.by.id])];
    state.lastChangedBy = ref.by.id;
    state.rejection = undefined;
    this.record('data_version', ref.by.id, { dataVersion: ref.dataVersion, source: ref.source });
    const routing = {
      ...(ref.typeApprovalNumber !== undefined && ref.typeApprovalNumber !== state.typeApprovalNumber ? { typeApprovalNumber: ref.typeApprovalNumber } : {}),
      ...(ref.destination !== undefined && (ref.destination ?? undefined) !== state.destination ? { destination: ref.destination } : {}),
    };
    if (Object.keys(routing).length === 0) return;
    this.record('routing_changed', ref.by.id, { from: { typeApprovalNumber: state.typeApprovalNumber, destination: state.destination ?? null }, to: routing });
    if (routing.typeApprovalNumber !== undefined) state.typeApprovalNumber = routing.typeApprovalNumber;
    if (routing.destination !== undefined) state.destination = routing.destination ?? undefined;
    this.publish();
  }

  /** A batch takes the certificate over (the release workflow's claim Update, or its own batch of one). */
  claim(batchId: string): ReleaseClaim {
    const { state } = this;
    // The same batch asking again (a retried claim) gets the same answer.
    if (state.status === 'delivering' && state.batchId === batchId) return this.claimed();
    // A certificate released now waits for its own batch of one; scheduled batches pass it by.
    const ownBatch = !state.releaseImmediately || state.batchId === batchId;
    if (state.status !== 'awaiting_release' || !ownBatch) return { claimed: false, reason: `state ${state.status}` };
    state.batchId = batchId;
    state.releaseImmediately = false;
    this.moveTo('delivering', SYSTEM, `batch ${batchId}`);
    return this.claimed();
  }

  private claimed(): ReleaseClaim {
    return { claimed: true, messageVersion: this.state.messageVersion, iviReferenceId: this.state.iviReferenceId! };
  }

  markDelivered(receipt: Omit<DeliveryReceipt, 'messageVersion' | 'iviReferenceId'>): void {
    const { state } = this;
    state.receipts.push({
      messageVersion: state.messageVersion,
      iviReferenceId: state.iviReferenceId!,
      destination: receipt.destination,
      reference: receipt.reference,
      at: receipt.at,
      acknowledged: receipt.acknowledged ?? false,
      batchId: receipt.batchId,
    });
    state.deliveredMessageVersion = state.messageVersion;
    this.moveTo('delivered', SYSTEM, receipt.reference);
    if (receipt.acknowledged) this.moveTo('acknowledged', SYSTEM, 'receipt from destination');
  }

  /** Every destination a message of this certificate was delivered to, in delivery order. */
  deliveredDestinations(): string[] {
    return [...new Set(this.state.receipts.map((receipt) => receipt.destination))];
  }

  private entry(action: string, actor: string, from?: CertificateStatus, to?: CertificateStatus, detail?: Record<string, unknown>): AuditEntry {
    const { state } = this;
    return {
      key: uuid4(),
      certificateId: state.certificateId,
      action,
      actor,
      at: nowIso(),
      fromStatus: from,
      toStatus: to,
      dataVersion: state.dataVersion,
      messageVersion: state.messageVersion,
      ...(detail ? { detail } : {}),
      snapshot: {
        status: to ?? state.status,
        owner: state.owner ?? null,
        dataVersion: state.dataVersion,
        messageVersion: state.messageVersion,
        batchId: state.batchId ?? null,
        reviewDeadline: state.reviewDeadline ?? null,
      },
    };
  }
}

function nowIso(): string {
  return new Date().toISOString();
}
