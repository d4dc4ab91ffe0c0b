// Server-rendered pages shared by the examples: plain HTML, no build step.
import { createIdgate, isIdgate, isNavigation, type Idgate, type IdgateOptions, type IdentityRequest } from '@idgate/core/adapter';

const escape = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const MESSAGES: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong e-mail or password.',
  ACCOUNT_BANNED: 'This account has been suspended.',
  EMAIL_NOT_VERIFIED: 'Confirm your e-mail address before signing in.',
  TOO_MANY_ATTEMPTS: 'Too many login attempts. Try again later.',
  BAD_REQUEST: 'Enter a valid e-mail address and a password.',
  PAYLOAD_TOO_LARGE: 'That was too much to send. Enter an e-mail address and a password.',
  UPSTREAM_UNAVAILABLE: 'Sign-in is unavailable right now. Try again shortly.',
  UPSTREAM_REFUSED: 'Sign-in failed: the sign-in service refused the request.',
  FORBIDDEN_ORIGIN: 'This form was posted from another site.',
};

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · idgate demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;cursor:pointer}.note{padding:.75rem;border-radius:6px;background:#fff4d6}
.error{background:#ffe1e1}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}</style>
</head><body>${body}</body></html>`;
}

// Why the user is on the login page (`reason=` from idgate's redirect, or the examples' logout).
const REASONS: Record<string, [id: string, text: string]> = {
  expired: ['expired', 'Your session expired. Sign in again to continue.'],
  invalid: ['invalid', 'Your session is no longer valid (signed out elsewhere, or the link was tampered with). Sign in again to continue.'],
  'signed-out': ['signed-out', 'You are signed out.'],
};

/** How an example's pages are rendered. */
export interface PageOptions {
  /** Show the demo accounts on the login page: only with the embedded mock upstream. @default false */
  demoHint?: boolean;
}

/** Where the examples send the browser after logout, so the login page confirms it. */
export const AFTER_LOGOUT_URL = '/login?reason=signed-out';

/** The login page: shows why the user is here (expired, invalid, signed out, error) and keeps returnTo. */
export function loginPage(query: { error?: unknown; reason?: unknown; returnTo?: unknown }, options: PageOptions = {}): string {
  const error = typeof query.error === 'string' ? MESSAGES[query.error] ?? 'Sign-in failed.' : undefined;
  const reason = typeof query.reason === 'string' && Object.hasOwn(REASONS, query.reason) ? REASONS[query.reason] : undefined;
  const returnTo = typeof query.returnTo === 'string' ? query.returnTo : '';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${reason ? `<p class="note" id="${reason[0]}" role="status">${escape(reason[1])}</p>` : ''}
${error ? `<p class="note error" id="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/login" id="login">
  <input type="hidden" name="returnTo" value="${escape(returnTo)}">
  <label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
${options.demoHint ? '<p id="demo-hint">Demo: <code>demo@example.com</code> / <code>demo-password</code></p>' : ''}
<script>
  // Keep the e-mail across a failed attempt without putting it in the URL.
  const email = document.getElementById('email');
  email.value = sessionStorage.getItem('idgate-demo-email') || '';
  document.getElementById('login').addEventListener('submit', () => sessionStorage.setItem('idgate-demo-email', email.value));
</script>`,
  );
}

// The browser sends no e-mail: the server takes it from the verified session.
const KYC_BUTTON = `<p><button type="button" id="kyc">Verify my identity</button> <output id="kyc-result"></output></p>
<script>
  document.getElementById('kyc').addEventListener('click', async () => {
    const out = document.getElementById('kyc-result');
    out.textContent = 'Starting…';
    const res = await fetch('/kyc/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = await res.json().catch(() => ({}));
    out.textContent = res.ok ? 'KYC session ' + body.sessionId + ' (until ' + body.expiryDate + ')' : 'Could not start: ' + (body.message || res.status);
  });
</script>`;

/** The signed-in page: the verified identity, a logout button and, with `kyc`, a "Verify my identity" button posting to /kyc/session. */
export function accountPage(identity: { id: string; email: string; name?: string; attributes: Record<string, unknown> }, options: { kyc?: boolean } = {}): string {
  const rows = Object.entries(identity.attributes)
    .map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`)
    .join('');
  return layout(
    'Account',
    `<h1>Account</h1>
<dl id="identity"><dt>Name</dt><dd id="name">${escape(identity.name ?? '')}</dd><dt>E-mail</dt><dd id="email">${escape(identity.email)}</dd>
<dt>Contact id</dt><dd>${escape(identity.id)}</dd>${rows}</dl>
${options.kyc ? KYC_BUTTON : ''}
<form method="post" action="/logout"><button type="submit" id="logout">Sign out</button></form>
<p><a href="/api/me">/api/me</a> (JSON) · <a href="/">Home</a></p>`,
  );
}

/** The public home page: tells "signed out" from "your session expired" and from "sign-in is down". */
export function homePage(identity: { name?: string; email: string } | null, status: string): string {
  const who = identity
    ? `<p>Signed in as <strong>${escape(identity.name ?? identity.email)}</strong>. <a href="/account">Your account</a></p>`
    : status === 'unavailable'
      ? '<p class="note error" id="unavailable" role="alert">The sign-in service is unavailable right now, so we cannot tell whether you are signed in. Try again in a moment.</p>'
      : `<p>${status === 'expired' ? 'Your session expired. ' : status === 'invalid' ? 'Your session is no longer valid. ' : ''}You are signed out. <a href="/account">Your account</a> (asks you to sign in)</p>`;
  return layout('Home', `<h1>idgate demo</h1>${who}`);
}

/** The HTML 503 for a page navigation while the sign-in service is down; send it with `Retry-After`. */
export function unavailablePage(retryAfterSeconds: number): string {
  return layout(
    'Sign-in unavailable',
    `<h1>Sign-in is unavailable</h1>
<p class="note error" id="unavailable" role="alert">The sign-in service is not answering, so this page cannot be shown right now. Try again in ${escape(retryAfterSeconds)} seconds.</p>
<p><a href="">Try again</a> · <a href="/">Home</a></p>`,
  );
}

/** The HTML 404 every example answers with, whatever its framework. */
export function notFoundPage(): string {
  return layout('Not found', `<h1>Page not found</h1>
<p id="not-found">There is no page at this address.</p>
<p><a href="/">Home</a></p>`);
}

/**
 * The examples' gate: an existing one as is, else one made from `options`
 * with the examples' defaults (after logout, the login page confirms it).
 */
export function exampleGate(options?: IdgateOptions | Idgate, defaults: IdgateOptions = {}): Idgate {
  return options && isIdgate(options) ? options : createIdgate({ afterLogoutUrl: AFTER_LOGOUT_URL, ...defaults, ...options });
}

/**
 * The HTML 503 and its headers for a page navigation whose session could not
 * be checked (`identityStatus` `unavailable`), or undefined: API calls keep
 * core's JSON 503, and a signed-in or anonymous request continues.
 */
export function whileUnavailable(gate: Idgate, req: Pick<IdentityRequest, 'method' | 'headers'>, status: string | undefined): { html: string; headers: Record<string, string> } | undefined {
  if (status !== 'unavailable' || !isNavigation(req)) return undefined;
  const retryAfter = gate.config.retryAfter;
  return { html: unavailablePage(retryAfter), headers: { 'Retry-After': String(retryAfter), 'Cache-Control': 'no-store' } };
}
