import { ApiError, whenUnauthenticated } from './api.ts';
import { h } from './dom.ts';
import { can, resume, signOut, type Session } from './session.ts';
import { certificateView } from './views/certificate.ts';
import { dashboardView } from './views/dashboard.ts';
import { isQueue, queueTitles, queueView } from './views/queue.ts';
import { signInView } from './views/sign-in.ts';
import { impactView } from './views/impact.ts';
import { typeApprovalView } from './views/type-approval.ts';
import { typeApprovalsView } from './views/type-approvals.ts';

/**
 * The console: hash routes (`#/dashboard`, `#/queue/<queue>?filters`, `#/certificates/<id>`,
 * `#/type-approvals?q=`, `#/type-approvals/<id>?revision=…`, `#/type-approvals/revisions/<id>/impact`)
 * over the API, rendered with the DOM API. No framework, no client state beyond the session.
 */
const main = document.getElementById('main')!;
const top = document.getElementById('top')!;
let generation = 0;

function header(session: Session | undefined): void {
  if (!session) {
    top.replaceChildren(h('span', { className: 'brand' }, 'ecoc-hub'));
    return;
  }
  const route = location.hash || '#/dashboard';
  const link = (href: string, label: string) => h('a', { href, ...(route.split('?')[0] === href ? { 'aria-current': 'page' } : {}) }, label);
  top.replaceChildren(
    h('a', { className: 'brand', href: '#/dashboard' }, 'ecoc-hub'),
    h(
      'nav',
      { 'aria-label': 'Main' },
      link('#/dashboard', 'Dashboard'),
      Object.entries(queueTitles).map(([queue, title]) => link(`#/queue/${queue}`, title)),
      can(session, 'typeApprovals.view') ? link('#/type-approvals', 'Type approvals') : null,
    ),
    h(
      'div',
      { className: 'who' },
      h('span', {}, `${session.me.subject} · ${session.me.roles.join(', ') || 'no roles'} · ${session.me.manufacturers.join(', ')}`),
      h('button', { type: 'button', className: 'secondary', onClick: () => leave('Signed out.') }, 'Sign out'),
    ),
  );
}

/** The message for the route a page moves to (go), shown once there. */
let flash: string | undefined;
function go(href: string, message: string): void {
  if (location.hash === href) return void route(message);
  flash = message;
  location.hash = href;
}

function leave(notice: string): void {
  signOut();
  generation += 1;
  header(undefined);
  show(signInView(() => route(), notice), 'Sign in');
}

function show(view: HTMLElement, title: string): void {
  main.replaceChildren(view);
  document.title = `${title} · ecoc-hub`;
  // Move focus to the new page's heading so keyboard and screen-reader users start there.
  (main.querySelector('h1') as HTMLElement | null)?.focus();
}

async function route(message?: string): Promise<void> {
  const current = ++generation;
  const session = await resume().catch(() => undefined);
  header(session);
  if (!session) return show(signInView(() => route()), 'Sign in');
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const parameters = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean);
  try {
    let view: HTMLElement;
    let title: string;
    if (parts[0] === 'queue' && parts[1] && isQueue(parts[1])) {
      view = await queueView(session, parts[1], parameters);
      title = queueTitles[parts[1]];
    } else if (parts[0] === 'certificates' && parts[1]) {
      const id = decodeURIComponent(parts[1]);
      view = await certificateView(session, id, { refresh: (next) => void route(next), isCurrent: () => generation === current, message });
      title = id;
    } else if (parts[0] === 'type-approvals' && parts[1] === 'revisions' && parts[2] && parts[3] === 'impact') {
      view = await impactView(session, decodeURIComponent(parts[2]), { refresh: (next) => void route(next), isCurrent: () => generation === current, message });
      title = 'Impact';
    } else if (parts[0] === 'type-approvals' && parts[1]) {
      view = await typeApprovalView(session, decodeURIComponent(parts[1]), parameters, { refresh: (next) => void route(next), go, message });
      title = 'Type approval';
    } else if (parts[0] === 'type-approvals') {
      view = await typeApprovalsView(session, parameters);
      title = 'Type approvals';
    } else {
      view = await dashboardView(session);
      title = 'Dashboard';
    }
    if (generation === current) show(view, title);
  } catch (error) {
    if (generation !== current) return;
    const text = error instanceof ApiError ? (error.status === 404 ? `Not found: ${error.describe()}. It does not exist, or it belongs to a manufacturer outside your scope.` : `The API answered ${error.status}: ${error.describe()}`) : `Something went wrong: ${(error as Error).message}`;
    show(h('section', { className: 'panel' }, h('h1', { tabindex: '-1' }, 'Cannot show this page'), h('p', { role: 'alert' }, text), h('p', {}, h('a', { href: '#/dashboard' }, 'Back to the dashboard'))), 'Error');
  }
}

whenUnauthenticated((error) => leave(`Please sign in again: ${error.describe()}`));
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => {
  const message = flash;
  flash = undefined;
  void route(message);
});
void route();
