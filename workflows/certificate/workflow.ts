import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CertificateInput, CertificateState } from '../../schemas/certificate.ts';
import { newBatchId, releaseNowWorkflowId } from '../release/definitions.ts';
import type { releaseWorkflow } from '../release/workflow.ts';
import { EcocBatchId, EcocDestination } from '../search-attributes.ts';
import { destination, hsm, steps } from './activities.ts';
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
import { Certificate, SYSTEM } from './state.ts';
import {
  isCurrentData,
  validateApprove,
  validateCorrection,
  validateDeliveryReport,
  validateReassign,
  validateReject,
  validateReleaseNow,
  validateRetry,
  validateSubmitData,
  validateWithdraw,
} from './validators.ts';

/** Marks runs in which "release now" is a batch of one through the release workflow. */
export const RELEASE_NOW_AS_BATCH = 'release-now-as-batch-of-one';
/** Marks runs in which validation and generation are one activity (`validateAndGenerate`). */
export const GENERATE_IN_ONE_STEP = 'validate-and-generate-in-one-step';
/**
 * Marks runs in which a batch of one starts without writing the audit first: its claim follows
 * at once, and the entries go with the audit written before the certificate waits for the outcome.
 */
export const RELEASE_AUDIT_CARRIED = 'release-now-audit-carried';

/**
 * The life of one vehicle certificate (VIN + manufacturer stage): validate, generate, review,
 * sign, release, deliver, acknowledge; corrections and withdrawal after delivery included.
 * Data and XML stay in the database; this workflow holds ids, hashes and decisions.
 */
export async function certificateWorkflow(input: CertificateInput): Promise<CertificateState> {
  const certificate = new Certificate(input);
  const { state } = certificate;
  const moveTo = certificate.moveTo.bind(certificate);
  const record = certificate.record.bind(certificate);
  /** Set by handlers when something changed that the main loop must react to. */
  let newData = false;
  let acknowledgements = 0;
  let retryRequested = false;
  let batchReport: DeliveryReport | undefined;
  let releaseRequestedBy: string | undefined;

  setHandler(statusQuery, () => state);
  setHandler(
    submitDataUpdate,
    (ref) => {
      if (!isCurrentData(state, ref)) {
        certificate.acceptData(ref);
        newData = true;
      }
      return state;
    },
    { validator: (ref) => validateSubmitData(state, ref) },
  );
  setHandler(
    correctUpdate,
    (request) => {
      certificate.acceptData({ dataVersion: request.dataVersion, dataHash: request.dataHash, by: request.actor, source: 'correction', authors: request.authors });
      newData = true;
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
    { validator: (request) => validateReject(state, request) },
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
      certificate.publish();
      return state;
    },
    { validator: (request) => validateReassign(state, request) },
  );
  setHandler(
    releaseNowUpdate,
    (request) => {
      state.releaseImmediately = true;
      releaseRequestedBy = request.actor.id;
      record('release_immediately', request.actor.id);
      return state;
    },
    { validator: (request) => validateReleaseNow(state, request) },
  );
  setHandler(
    retryUpdate,
    (request) => {
      record('retry', request.actor.id, { failure: state.failure });
      retryRequested = true;
      return state;
    },
    { validator: (request) => validateRetry(state, request) },
  );
  setHandler(claimForReleaseUpdate, ({ batchId }) => certificate.claim(batchId));
  setHandler(
    reportDeliveryUpdate,
    (report) => {
      batchReport = report;
      return state;
    },
    { validator: (report) => validateDeliveryReport(state, report) },
  );
  setHandler(acknowledgeSignal, (ack) => {
    const receipt = state.receipts.find((r) => r.messageVersion === ack.messageVersion && !r.acknowledged);
    if (receipt) {
      receipt.acknowledged = true;
      acknowledgements += 1;
      record('acknowledged', SYSTEM, { reference: ack.reference });
    }
  });

  certificate.publish();
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
      case 'generated':
        moveTo('in_review', SYSTEM);
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
        await awaitRetry();
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

  async function flushAudit(): Promise<void> {
    if (certificate.hasPendingAudit()) await steps.recordAudit({ entries: certificate.takeAudit() });
  }

  async function validateAndGenerate(): Promise<void> {
    if (state.status !== 'validating') moveTo('validating', state.lastChangedBy);
    try {
      if (patched(GENERATE_IN_ONE_STEP)) await validateAndGenerateInOneStep();
      else await validateThenGenerate();
    } catch (error) {
      fail('generate', error);
    }
  }

  /** One activity composes the data once, validates it and, unless blocked, stores the message. */
  async function validateAndGenerateInOneStep(): Promise<void> {
    const iviReferenceId = uuid4();
    const { findings, messageHash } = await steps.validateAndGenerate({
      certificateId: state.certificateId,
      dataVersion: state.dataVersion,
      messageVersion: state.messageVersion,
      iviReferenceId,
      audit: certificate.takeAudit(),
    });
    state.findings = findings;
    if (newData) return; // a newer version arrived meanwhile: validate that one
    if (messageHash === undefined) {
      moveTo('blocked', SYSTEM, `${findings.blocking.length} blocking finding(s)`);
      return;
    }
    state.iviReferenceId = iviReferenceId;
    state.messageHash = messageHash;
    moveTo('generated', SYSTEM);
  }

  /** Validation and generation as two activities: runs recorded before `GENERATE_IN_ONE_STEP`. */
  async function validateThenGenerate(): Promise<void> {
    const findings = await steps.validateCertificate({
      certificateId: state.certificateId,
      dataVersion: state.dataVersion,
      messageVersion: state.messageVersion,
      audit: certificate.takeAudit(),
    });
    state.findings = findings;
    if (newData) return;
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
      audit: certificate.takeAudit(),
    });
    if (newData) return;
    state.messageHash = generated.messageHash;
    moveTo('generated', SYSTEM);
  }

  async function review(): Promise<void> {
    const enteredAt = Date.now();
    state.reviewDeadline = new Date(enteredAt + input.review.escalateAfterMs).toISOString();
    state.reviewExpiresAt = new Date(enteredAt + input.review.expireAfterMs).toISOString();
    state.escalated = false;
    certificate.publish();
    // Carries the deadlines into the certificate row's projection (queues, overdue highlighting).
    record('review_started', SYSTEM, { deadline: state.reviewDeadline, expiresAt: state.reviewExpiresAt });
    await flushAudit();
    const decided = () => state.status !== 'in_review' || newData || !!state.withdrawal;
    if (!(await condition(decided, input.review.escalateAfterMs))) {
      const previousOwner = state.owner;
      state.escalated = true;
      state.owner = input.review.escalationOwner;
      record('review_escalated', SYSTEM, { from: previousOwner ?? null, to: state.owner });
      certificate.publish();
      await steps.notifyReviewEscalation({
        certificateId: state.certificateId,
        vin: state.vin,
        owner: state.owner,
        previousOwner,
        deadline: state.reviewExpiresAt,
        audit: certificate.takeAudit(),
      });
      const remaining = Math.max(0, enteredAt + input.review.expireAfterMs - Date.now());
      if (!(await condition(decided, remaining))) {
        state.rejection = { by: SYSTEM, reason: 'review deadline expired' };
        moveTo('rejected', SYSTEM, 'review deadline expired');
      }
    }
    state.reviewDeadline = undefined;
    if (newData && state.status === 'in_review') moveTo('validating', state.lastChangedBy, 'corrected during review');
    certificate.publish();
  }

  async function sign(): Promise<void> {
    try {
      state.signature = await hsm.signMessage({ certificateId: state.certificateId, iviReferenceId: state.iviReferenceId!, audit: certificate.takeAudit() });
      if (newData) {
        moveTo('validating', state.lastChangedBy, 'corrected before release');
        return;
      }
      moveTo('signed', SYSTEM);
    } catch (error) {
      fail('sign', error);
    }
  }

  /** Waits for a batch to claim the certificate, or for "release now" to start its own batch of one. */
  async function awaitRelease(): Promise<void> {
    await flushAudit();
    await condition(() => state.releaseImmediately || state.status !== 'awaiting_release' || newData || !!state.withdrawal);
    if (state.status !== 'awaiting_release' || state.withdrawal) return;
    if (newData) {
      moveTo('validating', state.lastChangedBy, 'corrected before release');
      return;
    }
    if (patched(RELEASE_NOW_AS_BATCH)) await releaseAsBatchOfOne();
    else await deliverSingleMessage();
  }

  /**
   * "Release now": a release run of exactly this certificate, so it is claimed, delivered,
   * reported (and, for SFTP partners, watched for acknowledgement) like any scheduled batch.
   */
  async function releaseAsBatchOfOne(): Promise<void> {
    const to = state.destination!;
    const batchId = newBatchId(to, new Date(), uuid4());
    state.batchId = batchId;
    record('release_batch_started', releaseRequestedBy ?? SYSTEM, { batchId, destination: to });
    if (!patched(RELEASE_AUDIT_CARRIED)) await flushAudit();
    const run = await startChild<typeof releaseWorkflow>('releaseWorkflow', {
      workflowId: releaseNowWorkflowId(batchId),
      args: [{ destination: to, batchId, certificateIds: [state.certificateId], requestedBy: releaseRequestedBy ?? `certificate:${state.certificateId}` }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: EcocDestination, value: to },
        { key: EcocBatchId, value: batchId },
      ],
    });
    let runEnded = false;
    void run.result().then(
      () => (runEnded = true),
      () => (runEnded = true),
    );
    await condition(() => state.status !== 'awaiting_release' || runEnded || newData || !!state.withdrawal);
    if (state.status !== 'awaiting_release') return; // claimed: the report arrives as for any batch
    // Not claimed (corrected or withdrawn meanwhile, or the run ended without it): a correction
    // keeps the request for the next approval; otherwise the next scheduled batch takes it.
    state.batchId = undefined;
    if (runEnded && !newData && !state.withdrawal) {
      state.releaseImmediately = false;
      record('release_batch_not_claimed', SYSTEM, { batchId });
    }
  }

  /** The single-message delivery of runs recorded before `RELEASE_NOW_AS_BATCH`. */
  async function deliverSingleMessage(): Promise<void> {
    state.releaseImmediately = false;
    moveTo('delivering', SYSTEM, 'released immediately');
    try {
      const receipt = await destination.deliverMessage({
        certificateId: state.certificateId,
        iviReferenceId: state.iviReferenceId!,
        destination: state.destination!,
        audit: certificate.takeAudit(),
      });
      certificate.markDelivered({ ...receipt, destination: state.destination! });
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
      certificate.markDelivered({ ...report.receipt, batchId: report.batchId });
    } else if (report.permanent) {
      state.failure = { step: 'deliver', reason: report.reason };
      moveTo('failed', SYSTEM, report.reason);
    } else {
      record('delivery_retry_later', SYSTEM, { batchId: report.batchId, reason: report.reason });
      state.batchId = undefined;
      moveTo('awaiting_release', SYSTEM, `batch ${report.batchId}: ${report.reason}`);
    }
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

  async function awaitRetry(): Promise<void> {
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
  }

  /** Withdraws at every destination a message version was delivered to, then ends the certificate. */
  async function withdraw(): Promise<void> {
    const { reason, by } = state.withdrawal!;
    for (const to of certificate.deliveredDestinations()) {
      try {
        const receipt = await destination.withdrawAtDestination({
          certificateId: state.certificateId,
          vin: state.vin,
          destination: to,
          reason,
          audit: certificate.takeAudit(),
        });
        record('withdrawn_at_destination', SYSTEM, { destination: to, reference: receipt.reference });
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
