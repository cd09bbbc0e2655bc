import type { z } from 'zod';
import type { certificateDetailSchema } from '../../../schemas/api/certificates.ts';
import { postJson } from '../api.ts';
import { field, h } from '../dom.ts';
import { can, type Session } from '../session.ts';
import { actionForm, refusalBox, typedValue } from './forms.ts';

export type CertificateDetail = z.infer<typeof certificateDetailSchema>;

/** States in which a correction is accepted (workflows/certificate/validators.ts). */
const correctable = new Set(['received', 'validating', 'blocked', 'generated', 'in_review', 'rejected', 'approved', 'signed', 'awaiting_release', 'delivered', 'acknowledged', 'failed']);

export interface ActionPanel {
  element: HTMLElement;
  /** Puts a field into the correction form (from the data table's "Correct" buttons). */
  correct?: ((path: string, current: unknown) => void) | undefined;
}

/**
 * The decisions the caller's roles allow in the certificate's state, each a form posting to the
 * API. The workflow decides in the end: refusals (four-eyes, stale version, state) come back as
 * problem JSON and are shown as they are.
 */
export function actionPanel(session: Session, detail: CertificateDetail, leaves: Map<string, unknown>, done: (message: string) => void): ActionPanel {
  const { state } = detail;
  const base = `/api/v1/certificates/${encodeURIComponent(state.certificateId)}`;
  const refusal = refusalBox();
  const forms: HTMLElement[] = [];

  const action = (label: string, path: string, body: () => unknown, success: (result: { state: { status: string } }) => string, ...fields: HTMLElement[]) => {
    forms.push(actionForm(label, refusal, async () => success(await postJson<{ state: { status: string } }>(`${base}/${path}`, body())), done, ...fields));
  };
  const text = (name: string, required = true) => h('input', { name, required, autocomplete: 'off' });
  const area = (name: string, required = true) => h('textarea', { name, required, rows: '2' });

  if (can(session, 'certificates.approve') && state.status === 'in_review') {
    const comment = area('comment', false);
    action(`Approve data version ${state.dataVersion}`, 'approve', () => ({ dataVersion: state.dataVersion, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) }), (result) => `Approved data version ${state.dataVersion}; the certificate is now ${result.state.status.replace(/_/g, ' ')}.`, field('Comment (optional)', comment));
  }
  if (can(session, 'certificates.reject') && state.status === 'in_review') {
    const reason = area('reason');
    action('Reject', 'reject', () => ({ reason: reason.value.trim() }), () => 'Rejected; the data goes back for correction.', field('Reason for rejecting', reason));
  }

  let correct: ActionPanel['correct'];
  if (can(session, 'certificates.correct') && correctable.has(state.status)) {
    const list = h('datalist', { id: 'leaf-paths' }, [...leaves.keys()].map((path) => h('option', { value: path })));
    const path = h('input', { name: 'path', required: true, list: 'leaf-paths', autocomplete: 'off', spellcheck: 'false' });
    const value = h('input', { name: 'value', autocomplete: 'off' });
    const reason = area('reason');
    action(
      'Correct field',
      'corrections',
      () => {
        return { reason: reason.value.trim(), corrections: [{ path: path.value.trim(), value: typedValue(value.value, leaves.get(path.value.trim())) }] };
      },
      (result) => `Correction stored as a new data version; the certificate is ${result.state.status.replace(/_/g, ' ')} and will be validated again.`,
      field('Field path', path, 'As in the data table, e.g. CocDataGroup/MassGroup/ActualMass'),
      list,
      field('New value', value, 'Leave empty to remove the field'),
      field('Reason for the correction', reason),
    );
    correct = (leaf, current) => {
      path.value = leaf;
      value.value = current === null || current === undefined ? '' : String(current);
      value.focus();
      value.select();
    };
  }

  if (can(session, 'certificates.reassign') && state.status !== 'withdrawn') {
    const owner = text('owner');
    action('Reassign', 'reassign', () => ({ owner: owner.value.trim() }), (result) => `Reassigned; the certificate is ${result.state.status.replace(/_/g, ' ')}.`, field('New owner', owner));
  }
  if (can(session, 'certificates.release') && ['approved', 'signed', 'awaiting_release'].includes(state.status)) {
    action('Release now', 'release-now', () => undefined, () => 'Release requested: the certificate is delivered without waiting for the schedule.');
  }
  if (can(session, 'certificates.retry') && state.status === 'failed') {
    action('Retry', 'retry', () => undefined, () => `Retrying the failed step (${state.failure?.step ?? 'unknown'}).`);
  }
  if (can(session, 'certificates.withdraw') && state.status !== 'withdrawn' && !state.withdrawal && state.status !== 'delivering') {
    const reason = area('reason');
    action('Withdraw', 'withdraw', () => ({ reason: reason.value.trim() }), () => 'Withdrawal requested; a delivered message is withdrawn at the destination too.', field('Reason for withdrawing', reason));
  }

  const element = h(
    'section',
    { className: 'panel actions', 'aria-labelledby': 'actions-heading' },
    h('h2', { id: 'actions-heading' }, 'Actions'),
    refusal,
    forms.length ? h('div', { className: 'action-forms' }, forms) : h('p', { className: 'muted' }, `Your roles (${session.me.roles.join(', ') || 'none'}) allow no action in state ${state.status.replace(/_/g, ' ')}.`),
  );
  return { element, correct };
}
