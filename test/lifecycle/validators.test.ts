import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { RefusalKind } from '../../auth/permissions.ts';
import type { Actor, CertificateState, CertificateStatus } from '../../schemas/certificate.ts';
import {
  validateApprove,
  validateCorrection,
  validateDeliveryReport,
  validateReassign,
  validateReject,
  validateReleaseNow,
  validateRetry,
  validateSubmitData,
  validateWithdraw,
} from '../../workflows/certificate/validators.ts';

/** The certificate workflow's Update validators, as plain functions: no server, no workflow. */

const people = {
  erp: { id: 'erp-feed', roles: ['integrator'] },
  rita: { id: 'rita', roles: ['reviewer'] },
  hana: { id: 'hana', roles: ['homologation'] },
  release: { id: 'rel', roles: ['release-manager'] },
  ops: { id: 'ops', roles: ['ops'] },
  admin: { id: 'ada', roles: ['admin'] },
  nobody: { id: '', roles: [] },
} satisfies Record<string, Actor>;

function certificate(status: CertificateStatus, overrides: Partial<CertificateState> = {}): CertificateState {
  return {
    certificateId: 'ecoc-WVWZZZ1JZXW000001-s1',
    vin: 'WVWZZZ1JZXW000001',
    stage: 1,
    manufacturerId: 'acme',
    typeApprovalNumber: 'e1*2018/858*00011*00',
    destination: 'nap-de',
    status,
    dataVersion: 2,
    dataHash: 'hash-2',
    submittedBy: 'erp-feed',
    lastChangedBy: 'hana',
    messageVersion: 1,
    escalated: false,
    releaseImmediately: false,
    receipts: [],
    transitions: [],
    ...overrides,
  };
}

/** The refusal's kind and message, or undefined when the validator accepts. */
function outcome(run: () => void): { kind: RefusalKind; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    return { kind: failure.type as RefusalKind, message: failure.message };
  }
}

describe('approve', () => {
  it('accepts a reviewer who neither submitted nor changed the data, for the current version in review', () => {
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.rita, dataVersion: 2 }))).toBeUndefined();
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.admin, dataVersion: 2 }))).toBeUndefined();
  });
  it('refuses a role without the permission as forbidden, naming the roles', () => {
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.ops, dataVersion: 2 }))).toEqual({
      kind: 'forbidden',
      message: 'approve: ops has role(s) ops; one of reviewer, admin is required',
    });
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.nobody, dataVersion: 2 }))?.kind).toBe('forbidden');
  });
  it('refuses outside review as not allowed in this state', () => {
    for (const status of ['approved', 'blocked', 'awaiting_release', 'withdrawn'] as const) {
      expect(outcome(() => validateApprove(certificate(status), { actor: people.rita, dataVersion: 2 }))?.kind).toBe('not_allowed_in_state');
    }
  });
  it('refuses an approval of another data version as stale', () => {
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.rita, dataVersion: 1 }))).toEqual({
      kind: 'stale_version',
      message: 'stale approval: you reviewed data version 1, the current version is 2',
    });
  });
  it('refuses anyone who authored a value of the version, not only its last changer (four-eyes)', () => {
    const corrected = certificate('in_review', { lastChangedBy: 'hana', authors: ['erp-feed', 'rita', 'hana'] });
    expect(outcome(() => validateApprove(corrected, { actor: people.rita, dataVersion: 2 }))).toEqual({
      kind: 'four_eyes',
      message: 'four-eyes: rita authored values of data version 2 and cannot approve it',
    });
    expect(outcome(() => validateApprove(corrected, { actor: people.admin, dataVersion: 2 }))).toBeUndefined();
  });
  it('refuses text no activity could store: NUL, unpaired surrogates, over-long values', () => {
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.rita, reason: 'a\u0000b' }))?.kind).toBe('invalid');
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.rita, reason: '\ud800' }))?.kind).toBe('invalid');
    expect(outcome(() => validateApprove(certificate('in_review'), { actor: people.rita, dataVersion: 2, comment: 'x'.repeat(2_001) }))?.kind).toBe('invalid');
    expect(outcome(() => validateReassign(certificate('in_review'), { actor: people.rita, owner: 'o'.repeat(201) }))?.kind).toBe('invalid');
    expect(outcome(() => validateWithdraw(certificate('delivered'), { actor: people.hana, reason: 'z\udc00' }))?.kind).toBe('invalid');
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.rita, reason: 'emoji 🚗 is fine' }))).toBeUndefined();
  });
  it('refuses whoever submitted or last changed the data (four-eyes)', () => {
    expect(outcome(() => validateApprove(certificate('in_review', { lastChangedBy: 'rita' }), { actor: people.rita, dataVersion: 2 }))?.kind).toBe('four_eyes');
    expect(outcome(() => validateApprove(certificate('in_review', { submittedBy: 'rita' }), { actor: people.rita, dataVersion: 2 }))?.kind).toBe('four_eyes');
  });
});

describe('submitting data', () => {
  const ref = (dataVersion: number, dataHash = `hash-${dataVersion}`) => ({ dataVersion, dataHash, by: people.erp, source: 'erp' as const });
  it('accepts a newer version and a repeat of the current one', () => {
    expect(outcome(() => validateSubmitData(certificate('in_review'), ref(3)))).toBeUndefined();
    expect(outcome(() => validateSubmitData(certificate('in_review'), ref(2)))).toBeUndefined();
  });
  it('refuses an older version as stale, and any data at all once withdrawn (a repeat included)', () => {
    expect(outcome(() => validateSubmitData(certificate('withdrawn'), ref(2)))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateSubmitData(certificate('in_review'), ref(1)))?.kind).toBe('stale_version');
    expect(outcome(() => validateSubmitData(certificate('withdrawn'), ref(3)))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateSubmitData(certificate('delivered', { withdrawal: { by: 'hana', reason: 'x' } }), ref(3)))?.kind).toBe('not_allowed_in_state');
  });
  it('refuses callers without the submit permission', () => {
    expect(outcome(() => validateSubmitData(certificate('in_review'), { ...ref(3), by: people.rita }))?.kind).toBe('forbidden');
  });
});

describe('corrections, rejection, withdrawal, reassignment', () => {
  it('correct: homologation, a reason, a newer version, not while delivering or withdrawn', () => {
    const request = { actor: people.hana, dataVersion: 3, dataHash: 'h3', reason: 'typo' };
    expect(outcome(() => validateCorrection(certificate('delivered'), request))).toBeUndefined();
    expect(outcome(() => validateCorrection(certificate('delivered'), { ...request, actor: people.rita }))?.kind).toBe('forbidden');
    expect(outcome(() => validateCorrection(certificate('delivering'), request))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateCorrection(certificate('withdrawn'), request))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateCorrection(certificate('in_review'), { ...request, reason: '  ' }))?.kind).toBe('invalid');
    expect(outcome(() => validateCorrection(certificate('in_review'), { ...request, dataVersion: 2 }))?.kind).toBe('stale_version');
  });
  it('reject: a reviewer, in review, with a reason', () => {
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.rita, reason: 'wrong colour' }))).toBeUndefined();
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.rita, reason: ' ' }))?.kind).toBe('invalid');
    expect(outcome(() => validateReject(certificate('approved'), { actor: people.rita, reason: 'x' }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateReject(certificate('in_review'), { actor: people.hana, reason: 'x' }))?.kind).toBe('forbidden');
  });
  it('withdraw: homologation, once, never during a delivery', () => {
    expect(outcome(() => validateWithdraw(certificate('acknowledged'), { actor: people.hana, reason: 'destroyed' }))).toBeUndefined();
    expect(outcome(() => validateWithdraw(certificate('acknowledged'), { actor: people.rita, reason: 'destroyed' }))?.kind).toBe('forbidden');
    expect(outcome(() => validateWithdraw(certificate('delivering'), { actor: people.hana, reason: 'destroyed' }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateWithdraw(certificate('withdrawn'), { actor: people.hana, reason: 'again' }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateWithdraw(certificate('acknowledged'), { actor: people.hana, reason: '' }))?.kind).toBe('invalid');
  });
  it('reassign: a new owner, not after withdrawal', () => {
    expect(outcome(() => validateReassign(certificate('in_review'), { actor: people.rita, owner: 'rob' }))).toBeUndefined();
    expect(outcome(() => validateReassign(certificate('in_review'), { actor: people.rita, owner: ' ' }))?.kind).toBe('invalid');
    expect(outcome(() => validateReassign(certificate('withdrawn'), { actor: people.rita, owner: 'rob' }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateReassign(certificate('in_review'), { actor: people.ops, owner: 'rob' }))?.kind).toBe('forbidden');
  });
});

describe('release, retry and delivery reports', () => {
  it('release now: a release manager, once approved, with a destination', () => {
    for (const status of ['approved', 'signed', 'awaiting_release'] as const) {
      expect(outcome(() => validateReleaseNow(certificate(status), { actor: people.release }))).toBeUndefined();
    }
    expect(outcome(() => validateReleaseNow(certificate('in_review'), { actor: people.release }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateReleaseNow(certificate('awaiting_release', { destination: undefined }), { actor: people.release }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateReleaseNow(certificate('awaiting_release'), { actor: people.rita }))?.kind).toBe('forbidden');
  });
  it('retry: ops, only when failed', () => {
    expect(outcome(() => validateRetry(certificate('failed'), { actor: people.ops }))).toBeUndefined();
    expect(outcome(() => validateRetry(certificate('delivered'), { actor: people.ops }))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateRetry(certificate('failed'), { actor: people.rita }))?.kind).toBe('forbidden');
  });
  it('a delivery report is taken only from the batch that claimed the certificate', () => {
    const report = { batchId: 'b1', outcome: 'failed' as const, reason: 'down', permanent: false };
    expect(outcome(() => validateDeliveryReport(certificate('delivering', { batchId: 'b1' }), report))).toBeUndefined();
    expect(outcome(() => validateDeliveryReport(certificate('delivering', { batchId: 'b2' }), report))?.kind).toBe('not_allowed_in_state');
    expect(outcome(() => validateDeliveryReport(certificate('awaiting_release', { batchId: 'b1' }), report))?.kind).toBe('not_allowed_in_state');
  });
});
