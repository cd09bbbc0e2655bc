import { ApiError } from '../api.ts';
import { field, h } from '../dom.ts';
import { signIn, type Session } from '../session.ts';

/** Sign-in with an API key or an OIDC access token (both go to the API as a bearer token). */
export function signInView(onSignedIn: (session: Session) => void, notice?: string): HTMLElement {
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true });
  const message = h('p', { className: 'message', role: 'alert' }, notice ?? '');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      className: 'sign-in',
      onSubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        message.textContent = '';
        try {
          onSignedIn(await signIn(token.value.trim()));
        } catch (error) {
          message.textContent = error instanceof ApiError ? `Sign-in refused: ${error.describe()}` : `Sign-in failed: ${(error as Error).message}`;
          token.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('API key or access token', token, 'An API key (ecoc_…) or an access token from your identity provider. It is kept in this browser tab only and sent to this server alone.'),
    submit,
    message,
  );
  return h('section', { className: 'panel narrow' }, h('h1', { tabindex: '-1' }, 'Sign in to ecoc-hub'), form);
}
