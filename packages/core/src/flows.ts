import type { Readable } from 'node:stream';
import { bodyKind, formFields, readBody } from './body.js';
import { clearedCookie, cookieIsSecure, readCookie, sessionCookie } from './cookies.js';
import { NO_STORE_HEADERS, PRIVATE_HEADERS, type Decision, type Header } from './decision.js';
import { IdgateError, LoginError, RequestError, UpstreamError } from './errors.js';
import type { Idgate } from './gate.js';
import { isIdentityId } from './normalize.js';
import { isNavigation, isSameOriginPost, type IdentityRequest } from './request.js';
import { safeReturnTo } from './returnTo.js';
import { identityKey } from './store.js';

const CLIENT_MESSAGES: Record<string, string> = {
  INVALID_CREDENTIALS: 'Wrong e-mail or password.',
  ACCOUNT_BANNED: 'This account has been suspended.',
  TOO_MANY_ATTEMPTS: 'Too many login attempts. Try again later.',
  EMAIL_NOT_VERIFIED: 'Confirm your e-mail address before signing in.',
  BAD_REQUEST: 'Enter an e-mail address and a password.',
  FORBIDDEN_ORIGIN: 'This form was posted from another site.',
  UNSUPPORTED_MEDIA_TYPE: 'Send JSON or a form.',
  METHOD_NOT_ALLOWED: 'Use POST.',
  UPSTREAM_UNAVAILABLE: 'Sign-in is unavailable right now. Try again shortly.',
};

// Unknown e-mail, no account and wrong password answer identically, so the
// login form cannot be used to find out who has an account.
const ENUMERATING = new Set(['LOGIN_FAILED', 'UNKNOWN_EMAIL', 'NO_ACCOUNT', 'INVALID_CREDENTIALS']);

function queryParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}

function failure(gate: Idgate, req: IdentityRequest, err: IdgateError, form: boolean, returnTo: string | undefined): Decision {
  const { config } = gate;
  let code: string = err.code;
  let status = err.status;
  if (err instanceof UpstreamError) {
    code = 'UPSTREAM_UNAVAILABLE';
    status = 503;
  } else if (ENUMERATING.has(err.code) && !config.exposeLoginCodes) {
    code = 'INVALID_CREDENTIALS';
    status = 401;
  }
  const headers: Header[] = [...NO_STORE_HEADERS];
  const retryAfter = err instanceof LoginError || err instanceof UpstreamError ? err.retryAfter : undefined;
  if (status === 429 || status === 503) headers.push(['Retry-After', String(retryAfter ?? config.retryAfter)]);
  if (form) {
    const sep = config.loginUrl.includes('?') ? '&' : '?';
    const back = returnTo ? `&returnTo=${encodeURIComponent(safeReturnTo(returnTo))}` : '';
    return { kind: 'redirect', statusCode: 303, location: `${config.loginUrl}${sep}error=${code}${back}`, headers, setCookies: [], };
  }
  const body: Record<string, unknown> = { error: code, message: CLIENT_MESSAGES[code] ?? err.message };
  if (config.exposeLoginCodes && err instanceof LoginError && err.upstreamCode) body.upstreamCode = err.upstreamCode;
  return { kind: 'reject', statusCode: status, body, headers, setCookies: [], error: err };
}

function reject(code: string, status: number, extra: Header[] = []): Decision {
  return {
    kind: 'reject',
    statusCode: status,
    body: { error: code, message: CLIENT_MESSAGES[code] ?? code },
    headers: [...NO_STORE_HEADERS, ...extra],
    setCookies: [],
  };
}

/**
 * Login: only same-origin posts (or `allowedOrigins`), JSON or urlencoded
 * bodies; the cookie is always the upstream's new identityId (a cookie planted
 * before login is never kept); a form post is redirected to a safe returnTo,
 * a JSON call answered with the identity. `body` is what a body parser
 * produced, or undefined to read `stream` (capped at 16 kB).
 */
export async function login(gate: Idgate, req: IdentityRequest, body: unknown, stream?: Readable): Promise<Decision> {
  const { config, logger } = gate;
  if (req.method !== 'POST') return reject('METHOD_NOT_ALLOWED', 405, [['Allow', 'POST']]);
  const kind = bodyKind(req.headers['content-type']);
  const form = kind === 'form';
  if (!isSameOriginPost(req, config.allowedOrigins)) {
    logger.warn({ event: 'csrf-rejected', flow: 'login', origin: req.headers.origin }, 'idgate: cross-site login post rejected');
    return reject('FORBIDDEN_ORIGIN', 403);
  }
  if (kind !== 'json' && kind !== 'form') return reject('UNSUPPORTED_MEDIA_TYPE', 415);
  let returnTo: string | undefined;
  try {
    // No body parser mounted: read the raw stream ourselves, capped.
    if (body === undefined && stream) body = await readBody(stream);
    const fields = formFields(kind, body);
    returnTo = fields.returnTo ?? queryParam(req.url, 'returnTo');
    if (!fields.email || !fields.password) throw new RequestError('BAD_REQUEST', 'email and password are required');
    const identityId = await gate.upstream.login({ email: fields.email, password: fields.password, customerRealIp: req.ip });
    const key = identityKey(config.secret, identityId);
    gate.emit({ type: 'login', key });
    logger.info({ event: 'login', key }, 'idgate: login succeeded');
    // A cookie the browser brought (possibly planted) is forgotten, not reused.
    const previous = readCookie(req.headers.cookie, config.cookieName);
    if (previous && isIdentityId(previous) && previous !== identityId) void gate.verifier.invalidate(previous);
    const setCookies = [sessionCookie(config, identityId, cookieIsSecure(config, req))];
    if (form) {
      const location = safeReturnTo(returnTo, config.afterLoginUrl);
      return { kind: 'redirect', statusCode: 303, location, headers: NO_STORE_HEADERS, setCookies };
    }
    // Prime the cache so the next request is a hit; a transient failure here
    // does not undo a successful login.
    const state = await gate.verifier.verify(identityId);
    return { kind: 'respond', statusCode: 200, body: { authenticated: true, identity: state.identity }, headers: PRIVATE_HEADERS, setCookies };
  } catch (err) {
    if (!(err instanceof IdgateError)) throw err;
    const upstreamCode = err instanceof LoginError ? err.upstreamCode : undefined;
    gate.emit({ type: 'login-failed', code: err.code, ...(upstreamCode ? { upstreamCode } : {}) });
    logger.warn({ event: 'login-failed', code: err.code, upstreamCode }, `idgate: login failed: ${err.code}`);
    return failure(gate, req, err, form, returnTo);
  }
}

/**
 * Logout: POST only, same-origin only; ends the session upstream (a missing
 * upstream logout route is tolerated), invalidates the cache here and in the
 * shared store, clears the cookie with matching attributes.
 */
export async function logout(gate: Idgate, req: IdentityRequest): Promise<Decision> {
  const { config, logger } = gate;
  if (req.method !== 'POST') return reject('METHOD_NOT_ALLOWED', 405, [['Allow', 'POST']]);
  if (!isSameOriginPost(req, config.allowedOrigins)) {
    logger.warn({ event: 'csrf-rejected', flow: 'logout', origin: req.headers.origin }, 'idgate: cross-site logout post rejected');
    return reject('FORBIDDEN_ORIGIN', 403);
  }
  const raw = readCookie(req.headers.cookie, config.cookieName);
  if (raw && isIdentityId(raw)) {
    const key = identityKey(config.secret, raw);
    await gate.verifier.invalidate(raw);
    try {
      await gate.upstream.logout(raw);
    } catch (err) {
      // The session is gone here and the cookie cleared; the upstream will
      // expire it on inactivity. Worth a warning, not a failed logout.
      logger.warn({ event: 'upstream-error', operation: 'logout', key, code: (err as IdgateError).code }, 'idgate: upstream logout failed');
      gate.emit({ type: 'upstream-error', key, code: (err as IdgateError).code ?? 'UNKNOWN', operation: 'logout' });
    }
    gate.emit({ type: 'logout', key });
    logger.info({ event: 'logout', key }, 'idgate: logout');
  }
  const setCookies = [clearedCookie(config, cookieIsSecure(config, req))];
  if (bodyKind(req.headers['content-type']) === 'form' || isNavigation(req)) {
    return { kind: 'redirect', statusCode: 303, location: safeReturnTo(config.afterLogoutUrl), headers: NO_STORE_HEADERS, setCookies };
  }
  return { kind: 'respond', statusCode: 200, body: { loggedOut: true }, headers: NO_STORE_HEADERS, setCookies };
}
