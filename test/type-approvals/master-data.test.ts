import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import { waitFor } from '../../platform/wait.ts';
import type { TypeApprovalDraftInput } from '../../schemas/ivi/type-approval.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { approveUpdate, rejectUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { recordHistory } from '../support/histories.ts';
import { specimenApproval } from '../inbox/support.ts';
import { actors, nextVin, specimenRecord } from '../support/lifecycle.ts';

const base = specimenApproval();
const [specimenVersion] = base.versions;
const VARIANT = specimenVersion!.variant;
const CHANGED = specimenVersion!.version;
const OTHER = `${CHANGED.slice(0, 30)}-B`;
const runningOrder = (values: unknown) => (values as { MassGroup: { MassInRunningOrder: number } }).MassGroup.MassInRunningOrder;
const OLD_MASS = runningOrder(specimenVersion!.values);
// Lighter: the running order mass must stay at or below the actual mass (ivi/rules/masses.ts).
const NEW_MASS = OLD_MASS - 15;

/** The specimen's approval: the specimen's own version (the one the revision changes) and a second one. */
const approvalDraft: TypeApprovalDraftInput = {
  ...base,
  baseAct: '(EU) 2018/858',
  revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: 'master data taken over from the homologation spreadsheet' },
  versions: [specimenVersion!, { ...specimenVersion!, version: OTHER }],
};

/** A vehicle record of 6 fields: everything else comes from the approval. */
function shortRecord(version: string): VehicleRecord {
  const vin = nextVin();
  const full = specimenRecord(vin);
  return { ...full, version, values: { VehicleIdentificationNumber: vin } } as VehicleRecord;
}

/**
 * Type-approval master data on the real stack: import, four-eyes publishing, composition from
 * the published revision with provenance, and the change impact of a new revision by the state
 * each certificate is in, through to the bulk correction delivered to the NAP simulator.
 */
describe('type-approval master data and change impact', () => {
  let h: ApiHarness;
  const tokens: Record<string, string> = {};
  let typeApprovalId: string;
  let firstRevision: string;

  beforeAll(async () => {
    h = await startApiHarness();
    tokens.hana = await h.key('hana', ['homologation']);
    tokens.hugo = await h.key('hugo', ['homologation']);
    tokens.rel = await h.key('rel', ['release-manager']);
    tokens.rita = await h.key('rita', ['reviewer']);
    tokens.globex = await h.key('gina', ['homologation', 'reviewer'], ['globex']);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const call = (who: string, method: string, path: string, body?: unknown) => h.call(method, path, { token: tokens[who], ...(body !== undefined ? { body } : {}) });

  it('imports a draft; the drafter cannot publish it, a second person can', async () => {
    const file = await writeTypeApprovalFile({ ...approvalDraft, revision: approvalDraft.revision, typeApprovalType: 'EU' } as never, 'xlsx');
    const imported = await call('hana', 'post', '/api/v1/type-approvals/imports', { format: 'xlsx', content: Buffer.from(file).toString('base64'), fileName: 'approval.xlsx' });
    expect(imported.status, imported.text).toBe(201);
    expect(imported.json).toMatchObject({ status: 'saved', versions: 2, draft: { sequence: 1, created: true } });
    typeApprovalId = imported.json.draft.typeApprovalId;
    firstRevision = imported.json.draft.revisionId;

    const refused = await call('hana', 'post', `/api/v1/type-approvals/revisions/${firstRevision}/publish`);
    expect(refused.status).toBe(403);
    expect(refused.json.type).toMatch(/four_eyes/);
    expect(refused.json.title).toMatch(/hana drafted revision 1 of .* cannot also publish it/);

    const published = await call('hugo', 'post', `/api/v1/type-approvals/revisions/${firstRevision}/publish`);
    expect(published.status, published.text).toBe(200);
    expect(published.json.revision).toMatchObject({ status: 'published', publishedBy: 'hugo', draftedBy: ['hana'] });
    const list = await call('rita', 'get', '/api/v1/type-approvals?q=00264');
    expect(list.json.approvals).toEqual([expect.objectContaining({ id: typeApprovalId, versions: 2, published: expect.objectContaining({ id: firstRevision }), draft: null })]);
  });

  it('a certificate built to the approval carries its values with provenance type_approval and the revision id, without ECOC-TA-001', async () => {
    const record = shortRecord(CHANGED);
    const { certificateId } = await h.lifecycle.ingest(record);
    await waitFor(async () => ['in_review', 'blocked'].includes((await h.lifecycle.status(certificateId)).status), { timeoutMs: 30_000, what: 'validation' });
    expect((await h.lifecycle.status(certificateId)).findings?.blocking).toEqual([]);
    const detail = await call('rita', 'get', `/api/v1/certificates/${certificateId}`);
    expect(detail.status).toBe(200);
    expect(detail.json.data.typeApproval).toMatchObject({ typeApprovalId, id: firstRevision, sequence: 1 });
    expect(detail.json.data.provenance['CocDataGroup/MassGroup/MassInRunningOrder']).toEqual({ source: 'type_approval', revisionId: firstRevision });
    expect(runningOrder(detail.json.data.values)).toBe(OLD_MASS);
    expect(detail.json.findings.items.map((finding: { ruleId: string }) => finding.ruleId)).not.toContain('ECOC-TA-001');
    const versions = await call('rita', 'get', `/api/v1/certificates/${certificateId}/versions`);
    expect(versions.json.versions[0].typeApprovalRevisionId).toBe(firstRevision);
  });

  it('publishing a change re-composes, returns to review or lists for correction by state; the bulk correction delivers version 2', async () => {
    const { lifecycle } = h;
    const handle = (id: string) => lifecycle.client.workflow.getHandle(id);
    const approve = async (id: string) => {
      const review = await lifecycle.waitForStatus(id, 'in_review');
      await handle(id).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: review.dataVersion }] });
      return lifecycle.waitForStatus(id, 'awaiting_release');
    };
    const inReview = (await lifecycle.ingest(shortRecord(CHANGED))).certificateId;
    const rejected = (await lifecycle.ingest(shortRecord(CHANGED))).certificateId;
    const awaiting = (await lifecycle.ingest(shortRecord(CHANGED))).certificateId;
    const deliveredRecord = shortRecord(CHANGED);
    const delivered = (await lifecycle.ingest(deliveredRecord)).certificateId;
    const otherVersion = (await lifecycle.ingest(shortRecord(OTHER))).certificateId;
    await lifecycle.waitForStatus(inReview, 'in_review');
    await lifecycle.waitForStatus(rejected, 'in_review');
    await handle(rejected).executeUpdate(rejectUpdate, { args: [{ actor: actors.rita, reason: 'waiting for the extension' }] });
    await approve(awaiting);
    await approve(delivered);
    await handle(delivered).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    await lifecycle.waitForStatus(delivered, 'acknowledged', 60_000);
    await lifecycle.waitForStatus(otherVersion, 'in_review');

    // A second revision changes one mass value of one version, edited in a draft.
    const draft = await call('hana', 'post', `/api/v1/type-approvals/${typeApprovalId}/drafts`, { extensionNumber: '02', effectiveDate: '2024-06-01', reason: 'mass in running order re-measured' });
    expect(draft.status, draft.text).toBe(201);
    const badValue = await call('hana', 'post', `/api/v1/type-approvals/revisions/${draft.json.revisionId}/values`, { variant: VARIANT, version: CHANGED, path: 'MassGroup/MassInRunningOrder', value: 'heavy' });
    expect(badValue.status).toBe(400);
    const set = await call('hana', 'post', `/api/v1/type-approvals/revisions/${draft.json.revisionId}/values`, { variant: VARIANT, version: CHANGED, path: 'MassGroup/MassInRunningOrder', value: NEW_MASS });
    expect(set.status, set.text).toBe(200);
    const diff = await call('rita', 'get', `/api/v1/type-approvals/revisions/${draft.json.revisionId}/diff`);
    expect(diff.json.versions).toEqual([{ variant: VARIANT, version: CHANGED, change: 'changed', fields: [{ path: 'CocDataGroup/MassGroup/MassInRunningOrder', from: OLD_MASS, to: NEW_MASS }] }]);
    const preview = await call('rita', 'get', `/api/v1/type-approvals/revisions/${draft.json.revisionId}/impact-preview`);
    expect(preview.json).toEqual({ changedVersions: 1, byStatus: { in_review: 2, rejected: 1, awaiting_release: 1, acknowledged: 1 } });

    const published = await call('hugo', 'post', `/api/v1/type-approvals/revisions/${draft.json.revisionId}/publish`);
    expect(published.status, published.text).toBe(200);
    const revisionId = published.json.revision.id as string;
    const report = async () => (await call('rita', 'get', `/api/v1/type-approvals/revisions/${revisionId}/impact`)).json;
    await waitFor(async () => (await report()).workflow?.status === 'COMPLETED', { timeoutMs: 60_000, what: 'the impact workflow to complete' });
    const impact = await report();
    expect(impact.counts.byAction).toEqual({ recomposed: 3, returned_to_review: 1, correction_candidate: 1 });
    expect(impact.counts.byStatusAtImpact).toEqual({ in_review: 2, rejected: 1, awaiting_release: 1, acknowledged: 1 });
    const row = (id: string) => impact.certificates.find((certificate: { certificateId: string }) => certificate.certificateId === id);
    expect(row(awaiting)).toMatchObject({ action: 'returned_to_review', dataVersion: 2, changedFields: [{ path: 'CocDataGroup/MassGroup/MassInRunningOrder', from: OLD_MASS, to: NEW_MASS }] });
    expect(row(delivered)).toMatchObject({ action: 'correction_candidate', dataVersion: null });
    expect(row(otherVersion)).toBeUndefined();

    // Not yet signed: a new data version from the new revision, validated and back in review.
    for (const id of [inReview, rejected, awaiting]) {
      const state = await lifecycle.waitForStatus(id, 'in_review');
      expect(state.dataVersion).toBe(2);
      const detail = await call('rita', 'get', `/api/v1/certificates/${id}`);
      expect(runningOrder(detail.json.data.values)).toBe(NEW_MASS);
      expect(detail.json.data.source).toBe('type_approval');
      expect(detail.json.data.provenance['CocDataGroup/MassGroup/MassInRunningOrder']).toEqual({ source: 'type_approval', revisionId });
    }
    const versions = await call('rita', 'get', `/api/v1/certificates/${awaiting}/versions`);
    expect(versions.json.versions[1].reason).toMatch(new RegExp(`MassGroup/MassInRunningOrder: ${OLD_MASS} → ${NEW_MASS}`));
    // Another version of the approval is untouched; so is the delivered certificate until a correction is asked for.
    expect((await lifecycle.status(otherVersion)).dataVersion).toBe(1);
    expect(await lifecycle.status(delivered)).toMatchObject({ status: 'acknowledged', dataVersion: 1, messageVersion: 1 });

    // Reviewers are not release managers or homologation: the bulk action is refused for them.
    expect((await call('rita', 'post', `/api/v1/type-approvals/revisions/${revisionId}/corrections`, {})).status).toBe(403);
    const corrections = await call('rel', 'post', `/api/v1/type-approvals/revisions/${revisionId}/corrections`, {});
    expect(corrections.status, corrections.text).toBe(202);
    expect(corrections.json.candidates).toBe(1);
    const corrected = await lifecycle.waitForStatus(delivered, 'in_review', 60_000);
    expect(corrected).toMatchObject({ dataVersion: 2, messageVersion: 2 });
    await approve(delivered);
    await handle(delivered).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    await lifecycle.waitForStatus(delivered, 'acknowledged', 60_000);
    const atNap = await lifecycle.nap.received(deliveredRecord.vin);
    expect(atNap?.messages.map((message) => message.iviVersionNumber)).toEqual([1, 2]);
    const messages = await lifecycle.db.certificateMessage.findMany({ where: { certificateId: delivered }, orderBy: { messageVersion: 'asc' } });
    expect(messages.map((message) => message.messageVersion)).toEqual([1, 2]);
    expect(messages[0]!.unsignedXml).toContain(`<MassInRunningOrder>${OLD_MASS}</MassInRunningOrder>`);
    expect(messages[1]!.unsignedXml).toContain(`<MassInRunningOrder>${NEW_MASS}</MassInRunningOrder>`);
    const afterCorrection = await report();
    expect(afterCorrection.counts.byAction).toMatchObject({ correction_issued: 1 });
    await recordHistory('type-approval-impact', lifecycle.client.workflow.getHandle(published.json.impactWorkflowId));
    await recordHistory('type-approval-corrections', lifecycle.client.workflow.getHandle(corrections.json.workflowId));

    // Every step is in the audit trail.
    const audit = await lifecycle.db.auditRecord.findMany({ where: { action: { contains: 'type_approval' } }, select: { action: true } });
    expect(new Set(audit.map((record) => record.action))).toEqual(
      new Set([
        'api:type_approval.imported',
        'api:type_approval.published',
        'api:type_approval.draft_opened',
        'api:type_approval.value_changed',
        'type_approval_impact',
        'type_approval.impact_applied',
        'api:type_approval.corrections_requested',
        'type_approval.corrections_issued',
      ]),
    );
  });

  it('readiness per vehicle group counts states and names blocking rules', async () => {
    const readiness = await call('rita', 'get', `/api/v1/type-approvals/${typeApprovalId}/readiness`);
    expect(readiness.status).toBe(200);
    const changed = readiness.json.versions.find((version: { version: string }) => version.version === CHANGED);
    expect(changed.total).toBe(5);
    expect(changed.byStatus).toMatchObject({ in_review: 4, acknowledged: 1 });
    expect(readiness.json.versions.find((version: { version: string }) => version.version === OTHER)).toMatchObject({ total: 1, ready: false });
  });

  it('another manufacturer’s approvals are 404 in every route', async () => {
    const list = await call('globex', 'get', '/api/v1/type-approvals');
    expect(list.json.approvals).toEqual([]);
    const paths: [string, string, unknown?][] = [
      ['get', `/api/v1/type-approvals/${typeApprovalId}`],
      ['get', `/api/v1/type-approvals/${typeApprovalId}/readiness`],
      ['post', `/api/v1/type-approvals/${typeApprovalId}/drafts`, { extensionNumber: '09', effectiveDate: '2030-01-01', reason: 'x' }],
      ['get', `/api/v1/type-approvals/revisions/${firstRevision}`],
      ['get', `/api/v1/type-approvals/revisions/${firstRevision}/diff`],
      ['get', `/api/v1/type-approvals/revisions/${firstRevision}/export?format=json`],
      ['get', `/api/v1/type-approvals/revisions/${firstRevision}/impact`],
      ['get', `/api/v1/type-approvals/revisions/${firstRevision}/impact-preview`],
      ['post', `/api/v1/type-approvals/revisions/${firstRevision}/publish`],
      ['post', `/api/v1/type-approvals/revisions/${firstRevision}/values`, { variant: VARIANT, version: CHANGED, path: 'MassGroup/MassInRunningOrder', value: 1 }],
      ['post', `/api/v1/type-approvals/revisions/${firstRevision}/corrections`, {}],
      ['post', '/api/v1/type-approvals/drafts', { ...approvalDraft, manufacturerId: 'acme' }],
    ];
    for (const [method, path, body] of paths) {
      const answer = await call('globex', method, path, body);
      expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(404);
    }
  });

  it('exports a revision in each format; importing the export gives the same draft', async () => {
    for (const format of ['xlsx', 'csv', 'json'] as const) {
      const exported = await fetch(`${h.url}/api/v1/type-approvals/revisions/${firstRevision}/export?format=${format}`, { headers: { authorization: `Bearer ${tokens.rita}` } });
      expect(exported.status).toBe(200);
      const bytes = Buffer.from(await exported.arrayBuffer());
      const checked = await call('hana', 'post', '/api/v1/type-approvals/imports', { format, content: bytes.toString('base64'), dryRun: true });
      expect(checked.status, checked.text).toBe(200);
      expect(checked.json).toMatchObject({ status: 'checked', problems: [], versions: 2 });
    }
  });
});
