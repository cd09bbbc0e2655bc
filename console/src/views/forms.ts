import { ApiError } from '../api.ts';
import { h } from '../dom.ts';

/** Where a form's refusal is shown: the API's words, with HTTP status and code (four_eyes, stale_version, …). */
export function refusalBox(): HTMLElement {
  return h('div', { className: 'refusal', role: 'alert', 'aria-live': 'assertive' });
}

/**
 * A form with one submit button that runs an API call. Success hands the call's message on;
 * a refusal is written into `refusal` as the API worded it, so nobody has to guess why.
 */
export function actionForm(label: string, refusal: HTMLElement, run: () => Promise<string>, done: (message: string) => void, ...fields: HTMLElement[]): HTMLFormElement {
  const button = h('button', { type: 'submit' }, label);
  return h(
    'form',
    {
      className: 'action',
      onSubmit: async (event: Event) => {
        event.preventDefault();
        refusal.textContent = '';
        refusal.classList.remove('shown');
        button.disabled = true;
        try {
          done(await run());
        } catch (error) {
          refusal.textContent = error instanceof ApiError ? `${label} refused (HTTP ${error.status}${error.problem.code ? `, ${error.problem.code}` : ''}): ${error.describe()}` : `${label} failed: ${(error as Error).message}`;
          refusal.classList.add('shown');
        } finally {
          button.disabled = false;
        }
      },
    },
    ...fields,
    button,
  );
}

/** A typed value from a text box: numbers and booleans stay numbers and booleans when the field holds one; empty removes it. */
export function typedValue(raw: string, current: unknown): unknown {
  const text = raw.trim();
  if (text === '') return null;
  if (typeof current === 'number' && Number.isFinite(Number(text))) return Number(text);
  if (typeof current === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}
