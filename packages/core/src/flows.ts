import { bodyKind, formFields, payloadTooLarge, readBody, type BodySource } from './body.js';
import { clearedCookie, cookieIsSecure, readCookie, sessionCookie } from './cookies.js';
import { COOKIE_HEADERS, NO_STORE_HEADERS, PRIVATE_HEADERS, type Decision, type Header } from './decision.js';
import { IdgateError, LoginError, LoginThrottledError, RequestError, UpstreamError } from './errors.js';
import type { Idgate } from './gate.js';
import { signSession } from './session.js';
import { clientRetryAfter } from './http.js';
import { isNavigation, isSameOriginPost, type IdentityRequest } from './request.js';
import { safeReturnTo } from './returnTo.js';
import { identityKey } from './store.js';
import type { LoginAttempt } from './throttle.js';

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

// What a client is told when the upstream, not the client, failed the login.
const UPSTREAM_MESSAGES: Record<string, string> = {
  UPSTREAM_UNAVAILABLE: CLIENT_MESSAGES.UPSTREAM_UNAVAILABLE!,
  BAD_REQUEST: 'The sign-in service refused this e-mail address or password.',
  UPSTREAM_REFUSED: 'Sign-in failed: the sign-in service refused the request.',
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
  const { config, logger } = gate;
  // One 413 on every adapter, form or JSON (Fastify answers it before the handler runs).
  if (err.code === 'PAYLOAD_TOO_LARGE') return payloadTooLarge(config.bodyLimit.login);
  let code: string = err.code;
  let status = err.status;
  // RequestError messages are ours and say what to fix ("Enter a valid e-mail address.").
  let message = err instanceof RequestError && err.code === 'BAD_REQUEST' ? err.message : (CLIENT_MESSAGES[code] ?? err.message);
  if (err instanceof UpstreamError) {
    if (err.outage) {
      code = 'UPSTREAM_UNAVAILABLE';
      status = 503;
    } else {
      // A definitive answer idgate does not recognise: the upstream is up, so
      // no 503 and no Retry-After. Its 400 refuses what we sent for the client.
      logger.error({ event: 'upstream-refused', operation: 'login', code: err.code, status: err.upstreamStatus }, `idgate: ${err.message}`);
      [code, status] = err.upstreamStatus === 400 ? ['BAD_REQUEST', 400] : ['UPSTREAM_REFUSED', 502];
    }
    message = UPSTREAM_MESSAGES[code]!;
  } else if (ENUMERATING.has(err.code) && !config.exposeLoginCodes) {
    code = 'INVALID_CREDENTIALS';
    status = 401;
    message = CLIENT_MESSAGES[code]!;
  }
  const headers: Header[] = [...NO_STORE_HEADERS];
  const retryAfter = err instanceof LoginError || err instanceof UpstreamError ? err.retryAfter : undefined;
  if (status === 429 || status === 503) headers.push(['retry-after', String(clientRetryAfter(retryAfter, config.retryAfterCap, config.retryAfter))]);
  if (form) {
    const sep = config.loginUrl.includes('?') ? '&' : '?';
    const back = returnTo ? `&returnTo=${encodeURIComponent(safeReturnTo(returnTo))}` : '';
    return { kind: 'redirect', statusCode: 303, location: `${config.loginUrl}${sep}error=${code}${back}`, headers, setCookies: [], };
  }
  const body: Record<string, unknown> = { error: code, message };
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
 * produced, or undefined to read `stream` (capped at `bodyLimit.login`, 16 kB).
 */
export async function login(gate: Idgate, req: IdentityRequest, body: unknown, stream?: BodySource): Promise<Decision> {
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
  let attempt: LoginAttempt | undefined;
  try {
    // No body parser mounted: read the raw stream ourselves, capped.
    if (body === undefined && stream) body = await readBody(stream, config.bodyLimit.login);
    const fields = formFields(kind, body);
    returnTo = fields.returnTo ?? queryParam(req.url, 'returnTo');
    if (!fields.email || !fields.password) throw new RequestError('BAD_REQUEST', 'email and password are required');
    // idgate's own limiter, before any upstream call (throws LoginThrottledError).
    attempt = await gate.throttle.begin(fields.email, req.ip);
    const identityId = await gate.upstream.login({ email: fields.email, password: fields.password, customerRealIp: req.ip });
    await attempt.succeeded();
    const key = identityKey(config.secret, identityId);
    gate.emit({ type: 'login', key });
    logger.info({ event: 'login', key }, 'idgate: login succeeded');
    // The cookie is idgate's own: the upstream id and the session's start under a MAC.
    const value = signSession(config.keys, identityId, (config.now ?? Date.now)());
    // A cookie the browser brought (possibly planted) is forgotten, not reused.
    const previous = readCookie(req.headers.cookie, config.cookieName);
    if (previous !== undefined && previous !== value) void gate.verifier.invalidate(previous);
    const setCookies = [sessionCookie(config, value, cookieIsSecure(config, req))];
    if (form) {
      const location = safeReturnTo(returnTo, config.afterLoginUrl);
      return { kind: 'redirect', statusCode: 303, location, headers: NO_STORE_HEADERS, setCookies };
    }
    // Prime the cache so the next request is a hit; a transient failure here
    // does not undo a successful login.
    const state = await gate.verifier.verify(value);
    return { kind: 'respond', statusCode: 200, body: { authenticated: true, identity: state.identity }, headers: PRIVATE_HEADERS, setCookies };
  } catch (caught) {
    if (!(caught instanceof IdgateError)) throw caught;
    // A definitive failure stays counted; E006 comes back as the limiter's own answer.
    const err = attempt ? await attempt.failed(caught) : caught;
    if (err instanceof LoginThrottledError) {
      gate.emit({ type: 'login-throttled', reason: err.reason, key: err.key, fromUpstream: err.fromUpstream });
      logger.warn({ event: 'login-throttled', reason: err.reason, key: err.key, fromUpstream: err.fromUpstream }, 'idgate: login throttled');
      return failure(gate, req, err, form, returnTo);
    }
    const upstreamCode = err instanceof LoginError ? err.upstreamCode : undefined;
    gate.emit({ type: 'login-failed', code: err.code, ...(upstreamCode ? { upstreamCode } : {}) });
    logger.warn({ event: 'login-failed', code: err.code, upstreamCode }, `idgate: login failed: ${err.code}`);
    return failure(gate, req, err, form, returnTo);
  }
}

/**
 * Logout: POST only, same-origin only; ends the session upstream (a missing
 * upstream logout route is tolerated), invalidates the cache here and in the
 * shared store, clears the cookie with matching attributes. `stream`, when no
 * parser read the body, is drained up to `bodyLimit.login` (413 beyond).
 */
export async function logout(gate: Idgate, req: IdentityRequest, stream?: BodySource): Promise<Decision> {
  const { config, logger } = gate;
  if (req.method !== 'POST') return reject('METHOD_NOT_ALLOWED', 405, [['Allow', 'POST']]);
  if (!isSameOriginPost(req, config.allowedOrigins)) {
    logger.warn({ event: 'csrf-rejected', flow: 'logout', origin: req.headers.origin }, 'idgate: cross-site logout post rejected');
    return reject('FORBIDDEN_ORIGIN', 403);
  }
  // The body means nothing here, but it is capped like login's, as Fastify caps what it parses.
  if (stream && !stream.readableEnded) {
    try {
      await readBody(stream, config.bodyLimit.login);
    } catch (err) {
      if (err instanceof RequestError && err.code === 'PAYLOAD_TOO_LARGE') return payloadTooLarge(config.bodyLimit.login);
      throw err;
    }
  }
  const raw = readCookie(req.headers.cookie, config.cookieName);
  // Only a session idgate signed is ended (and tombstoned): a stranger's
  // made-up cookie costs no upstream call and takes no slot.
  const id = raw === undefined ? undefined : await gate.verifier.invalidate(raw);
  if (id !== undefined) {
    const key = identityKey(config.secret, id);
    try {
      await gate.upstream.logout(id);
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
  const headers = raw === undefined ? NO_STORE_HEADERS : COOKIE_HEADERS;
  if (bodyKind(req.headers['content-type']) === 'form' || isNavigation(req)) {
    return { kind: 'redirect', statusCode: 303, location: safeReturnTo(config.afterLogoutUrl), headers, setCookies };
  }
  return { kind: 'respond', statusCode: 200, body: { loggedOut: true }, headers, setCookies };
}
