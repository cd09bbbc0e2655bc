import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { EcocBatchId, EcocDestination, EcocManufacturer, EcocOwner, EcocReviewDeadline, EcocStage, EcocStatus, EcocTypeApprovalNumber, EcocVin } from '../search-attributes.ts';
import type { AuditEntry } from './audit.ts';
import {
  type DeliveryReport,
  acknowledgeSignal,
  approveUpdate,
  claimForReleaseUpdate,
  correctUpdate,
  reassignUpdate,
  rejectUpdate,
  releaseNowUpdate,
  reportDeliveryUpdate,
  retryUpdate,
  statusQuery,
  submitDataUpdate,
  withdrawUpdate,
} from './definitions.ts';
import { assertRole, refuse, validateApprove, validateCorrection, validateWithdraw } from './rules.ts';
import type { CertificateStatus } from './status.ts';
import type { CertificateInput, CertificateState, DataVersionRef } from './types.ts';

const SYSTEM = 'system';

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});
const hsm = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 30 },
});
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 50 },
});

/**
 * The life of one vehicle certificate (VIN + manufacturer stage): validate, generate, review,
 * sign, release, deliver, acknowledge; corrections and withdrawal after delivery included.
 * Data and XML stay in the database; this workflow holds ids, hashes and decisions.
 */
export async function certificateWorkflow(input: CertificateInput): Promise<CertificateState> {
  const state: CertificateState = input.carried ?? {
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
    messageVersion: 1,
    owner: input.initialOwner,
    escalated: false,
    releaseImmediately: false,
    receipts: [],
    transitions: [{ from: 'received', to: 'received', actor: input.data.by.id, at: nowIso(), note: `data v${input.data.dataVersion} from ${input.data.source}` }],
  };
  const pendingAudit: AuditEntry[] = input.carried ? [] : [auditEntry('ingested', input.data.by.id, undefined, 'received', { source: input.data.source })];
  /** Set by handlers when something changed that the main loop must react to. */
  let newData = false;
  let acknowledgements = 0;
  let retryRequested = false;
  let batchReport: DeliveryReport | undefined;

  function nowIso(): string {
    return new Date().toISOString();
  }
  function auditEntry(action: string, actor: string, from?: CertificateStatus, to?: CertificateStatus, detail?: Record<string, unknown>): AuditEntry {
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
  function record(action: string, actor: string, detail?: Record<string, unknown>): void {
    pendingAudit.push(auditEntry(action, actor, state.status, state.status, detail));
  }
  function moveTo(status: CertificateStatus, actor: string, note?: string): void {
    const from = state.status;
    state.status = status;
    state.transitions.push({ from, to: status, actor, at: nowIso(), note });
    pendingAudit.push(auditEntry(`status:${status}`, actor, from, status, note ? { note } : undefined));
    publish();
  }
  function publish(): void {
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
  function takeAudit(): AuditEntry[] {
    return pendingAudit.splice(0, pendingAudit.length);
  }
  async function flushAudit(): Promise<void> {
    if (pendingAudit.length > 0) await steps.recordAudit({ entries: takeAudit() });
  }
  function acceptData(ref: DataVersionRef): void {
    state.dataVersion = ref.dataVersion;
    state.dataHash = ref.dataHash;
    state.lastChangedBy = ref.by.id;
    state.rejection = undefined;
    newData = true;
    record('data_version', ref.by.id, { dataVersion: ref.dataVersion, source: ref.source });
  }

  function isCurrentData(ref: DataVersionRef): boolean {
    return ref.dataVersion === state.dataVersion && ref.dataHash === state.dataHash;
  }

  setHandler(statusQuery, () => state);

  setHandler(
    submitDataUpdate,
    (ref) => {
      if (!isCurrentData(ref)) acceptData(ref);
      return state;
    },
    {
      validator: (ref) => {
        assertRole(ref.by, ['integrator', 'homologation', 'admin'], 'submit vehicle data');
        if (isCurrentData(ref)) return; // a repeated ingest of what the workflow already has
        if (ref.dataVersion <= state.dataVersion) refuse(`data version ${ref.dataVersion} is not newer than the current version ${state.dataVersion}`);
        if (state.status === 'withdrawn' || state.withdrawal) refuse('the certificate was withdrawn');
      },
    },
  );
  setHandler(
    correctUpdate,
    (request) => {
      acceptData({ dataVersion: request.dataVersion, dataHash: request.dataHash, by: request.actor, source: 'correction' });
      return state;
    },
    { validator: (request) => validateCorrection(state, request) },
  );
  setHandler(
    approveUpdate,
    (request) => {
      state.owner = request.actor.id;
      moveTo('approved', request.actor.id, request.comment);
      return state;
    },
    { validator: (request) => validateApprove(state, request) },
  );
  setHandler(
    rejectUpdate,
    (request) => {
      state.rejection = { by: request.actor.id, reason: request.reason };
      moveTo('rejected', request.actor.id, request.reason);
      return state;
    },
    {
      validator: (request) => {
        assertRole(request.actor, ['reviewer', 'admin'], 'reject');
        if (state.status !== 'in_review') refuse(`cannot reject in state ${state.status}; only a certificate in review can be rejected`);
        if (!request.reason?.trim()) refuse('a rejection needs a reason');
      },
    },
  );
  setHandler(
    withdrawUpdate,
    (request) => {
      state.withdrawal = { by: request.actor.id, reason: request.reason };
      record('withdraw_requested', request.actor.id, { reason: request.reason });
      return state;
    },
    { validator: (request) => validateWithdraw(state, request) },
  );
  setHandler(
    reassignUpdate,
    (request) => {
      record('reassigned', request.actor.id, { from: state.owner ?? null, to: request.owner });
      state.owner = request.owner;
      publish();
      return state;
    },
    {
      validator: (request) => {
        assertRole(request.actor, ['homologation', 'reviewer', 'admin'], 'reassign');
        if (!request.owner?.trim()) refuse('the new owner is missing');
        if (state.status === 'withdrawn') refuse('the certificate was withdrawn');
      },
    },
  );
  setHandler(
    releaseNowUpdate,
    (request) => {
      state.releaseImmediately = true;
      record('release_immediately', request.actor.id);
      return state;
    },
    {
      validator: (request) => {
        assertRole(request.actor, ['release-manager', 'admin'], 'release immediately');
        if (!['approved', 'signed', 'awaiting_release'].includes(state.status)) refuse(`cannot release in state ${state.status}; the certificate must be approved`);
        if (!state.destination) refuse('the certificate has no destination');
      },
    },
  );
  setHandler(
    retryUpdate,
    (request) => {
      record('retry', request.actor.id, { failure: state.failure });
      retryRequested = true;
      return state;
    },
    {
      validator: (request) => {
        assertRole(request.actor, ['ops', 'admin'], 'retry');
        if (state.status !== 'failed') refuse(`only a failed certificate can be retried (state is ${state.status})`);
      },
    },
  );
  setHandler(
    claimForReleaseUpdate,
    ({ batchId }) => {
      // The same batch asking again (a retried claim) gets the same answer.
      if (state.status === 'delivering' && state.batchId === batchId) return { claimed: true, messageVersion: state.messageVersion, iviReferenceId: state.iviReferenceId! };
      if (state.status !== 'awaiting_release' || state.releaseImmediately) {
        return { claimed: false, reason: `state ${state.status}` };
      }
      state.batchId = batchId;
      moveTo('delivering', SYSTEM, `batch ${batchId}`);
      return { claimed: true, messageVersion: state.messageVersion, iviReferenceId: state.iviReferenceId! };
    },
  );
  setHandler(
    reportDeliveryUpdate,
    (report) => {
      batchReport = report;
      return state;
    },
    {
      validator: (report) => {
        if (state.status !== 'delivering' || state.batchId !== report.batchId) refuse(`no delivery of batch ${report.batchId} in progress (state ${state.status})`);
      },
    },
  );
  setHandler(acknowledgeSignal, (ack) => {
    const receipt = state.receipts.find((r) => r.messageVersion === ack.messageVersion && !r.acknowledged);
    if (receipt) {
      receipt.acknowledged = true;
      acknowledgements += 1;
      record('acknowledged', SYSTEM, { reference: ack.reference });
    }
  });

  publish();
  for (;;) {
    if (state.withdrawal && state.status !== 'withdrawn') {
      await withdraw();
      break;
    }
    switch (state.status) {
      case 'received':
      case 'validating':
      case 'rejected':
      case 'blocked':
        if (state.status === 'rejected' || state.status === 'blocked') {
          await flushAudit();
          await condition(() => newData || !!state.withdrawal);
          if (state.withdrawal) continue;
        }
        newData = false;
        await validateAndGenerate();
        break;
      case 'in_review':
        await review();
        break;
      case 'approved':
        await sign();
        break;
      case 'signed':
        moveTo('awaiting_release', SYSTEM);
        break;
      case 'awaiting_release':
        await awaitRelease();
        break;
      case 'delivering':
        await awaitBatchOutcome();
        break;
      case 'delivered':
      case 'acknowledged':
        await afterDelivery();
        break;
      case 'failed':
        await flushAudit();
        await condition(() => retryRequested || !!state.withdrawal || newData);
        if (retryRequested) {
          retryRequested = false;
          const step = state.failure?.step;
          state.failure = undefined;
          moveTo(step === 'sign' ? 'approved' : step === 'deliver' ? 'awaiting_release' : 'validating', SYSTEM, 'retry');
        } else if (newData) {
          moveTo('validating', state.lastChangedBy);
        }
        break;
      case 'generated':
        moveTo('in_review', SYSTEM);
        break;
      case 'withdrawn':
        return state;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await flushAudit();
      return continueAsNew<typeof certificateWorkflow>({ ...input, carried: state });
    }
  }
  await flushAudit();
  return state;

  async function validateAndGenerate(): Promise<void> {
    if (state.status !== 'validating') moveTo('validating', state.lastChangedBy);
    try {
      const findings = await steps.validateCertificate({
        certificateId: state.certificateId,
        dataVersion: state.dataVersion,
        messageVersion: state.messageVersion,
        audit: takeAudit(),
      });
      state.findings = findings;
      if (newData) return; // a newer version arrived meanwhile: validate that one
      if (findings.blocking.length > 0) {
        moveTo('blocked', SYSTEM, `${findings.blocking.length} blocking finding(s)`);
        return;
      }
      state.iviReferenceId = uuid4();
      const generated = await steps.generateMessage({
        certificateId: state.certificateId,
        dataVersion: state.dataVersion,
        messageVersion: state.messageVersion,
        iviReferenceId: state.iviReferenceId,
        audit: takeAudit(),
      });
      if (newData) return;
      state.messageHash = generated.messageHash;
      moveTo('generated', SYSTEM);
    } catch (error) {
      fail('generate', error);
    }
  }

  async function review(): Promise<void> {
    const enteredAt = Date.now();
    state.reviewDeadline = new Date(enteredAt + input.review.escalateAfterMs).toISOString();
    state.reviewExpiresAt = new Date(enteredAt + input.review.expireAfterMs).toISOString();
    state.escalated = false;
    publish();
    // Carries the deadlines into the certificate row's projection (queues, overdue highlighting).
    record('review_started', SYSTEM, { deadline: state.reviewDeadline, expiresAt: state.reviewExpiresAt });
    await flushAudit();
    const decided = () => state.status !== 'in_review' || newData || !!state.withdrawal;
    if (!(await condition(decided, input.review.escalateAfterMs))) {
      const previousOwner = state.owner;
      state.escalated = true;
      state.owner = input.review.escalationOwner;
      record('review_escalated', SYSTEM, { from: previousOwner ?? null, to: state.owner });
      publish();
      await steps.notifyReviewEscalation({
        certificateId: state.certificateId,
        vin: state.vin,
        owner: state.owner,
        previousOwner,
        deadline: state.reviewExpiresAt,
        audit: takeAudit(),
      });
      const remaining = Math.max(0, enteredAt + input.review.expireAfterMs - Date.now());
      if (!(await condition(decided, remaining))) {
        state.rejection = { by: SYSTEM, reason: 'review deadline expired' };
        moveTo('rejected', SYSTEM, 'review deadline expired');
      }
    }
    state.reviewDeadline = undefined;
    if (newData && state.status === 'in_review') moveTo('validating', state.lastChangedBy, 'corrected during review');
    publish();
  }

  async function sign(): Promise<void> {
    try {
      const signature = await hsm.signMessage({ certificateId: state.certificateId, iviReferenceId: state.iviReferenceId!, audit: takeAudit() });
      state.signature = signature;
      if (newData) {
        moveTo('validating', state.lastChangedBy, 'corrected before release');
        return;
      }
      moveTo('signed', SYSTEM);
    } catch (error) {
      fail('sign', error);
    }
  }

  async function awaitRelease(): Promise<void> {
    await flushAudit();
    await condition(() => state.releaseImmediately || state.status !== 'awaiting_release' || newData || !!state.withdrawal);
    if (state.status !== 'awaiting_release' || state.withdrawal) return;
    if (newData) {
      moveTo('validating', state.lastChangedBy, 'corrected before release');
      return;
    }
    state.releaseImmediately = false;
    moveTo('delivering', SYSTEM, 'released immediately');
    try {
      const receipt = await delivery.deliverMessage({
        certificateId: state.certificateId,
        iviReferenceId: state.iviReferenceId!,
        destination: state.destination!,
        audit: takeAudit(),
      });
      markDelivered({ ...receipt, destination: state.destination! });
    } catch (error) {
      fail('deliver', error);
    }
  }

  async function awaitBatchOutcome(): Promise<void> {
    await flushAudit();
    await condition(() => batchReport !== undefined);
    const report = batchReport!;
    batchReport = undefined;
    if (report.outcome === 'delivered') {
      markDelivered({ ...report.receipt, batchId: report.batchId });
    } else if (report.permanent) {
      state.failure = { step: 'deliver', reason: report.reason };
      moveTo('failed', SYSTEM, report.reason);
    } else {
      record('delivery_retry_later', SYSTEM, { batchId: report.batchId, reason: report.reason });
      state.batchId = undefined;
      moveTo('awaiting_release', SYSTEM, `batch ${report.batchId}: ${report.reason}`);
    }
  }

  function markDelivered(receipt: { destination: string; reference: string; at: string; acknowledged?: boolean | undefined; batchId?: string | undefined }): void {
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
    moveTo('delivered', SYSTEM, receipt.reference);
    if (receipt.acknowledged) moveTo('acknowledged', SYSTEM, 'receipt from destination');
  }

  async function afterDelivery(): Promise<void> {
    if (state.status === 'delivered' && acknowledgements > 0) {
      acknowledgements = 0;
      moveTo('acknowledged', SYSTEM);
      return;
    }
    await flushAudit();
    await condition(() => newData || !!state.withdrawal || (state.status === 'delivered' && acknowledgements > 0));
    if (newData && !state.withdrawal) {
      // A correction after delivery is a new message: IviVersionNumber + 1, new reference id.
      state.messageVersion += 1;
      state.signature = undefined;
      state.batchId = undefined;
      moveTo('validating', state.lastChangedBy, `correction: message version ${state.messageVersion}`);
    }
  }

  async function withdraw(): Promise<void> {
    const { reason, by } = state.withdrawal!;
    if (state.deliveredMessageVersion !== undefined && state.destination) {
      try {
        const receipt = await delivery.withdrawAtDestination({
          certificateId: state.certificateId,
          vin: state.vin,
          destination: state.destination,
          reason,
          audit: takeAudit(),
        });
        record('withdrawn_at_destination', SYSTEM, { reference: receipt.reference });
      } catch (error) {
        state.withdrawal = undefined;
        fail('withdraw', error);
        return;
      }
    }
    moveTo('withdrawn', by, reason);
    await flushAudit();
  }

  function fail(step: string, error: unknown): void {
    if (isCancellation(error)) throw error;
    const reason = error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message;
    log.warn('certificate step failed', { step, reason });
    state.failure = { step, reason };
    moveTo('failed', SYSTEM, `${step}: ${reason}`);
  }
}

