import { z } from 'zod';
import type { IdgateConfig } from './config.js';
import { LoginError, UpstreamError, type UpstreamLoginCode } from './errors.js';
import { requestJson, parseRetryAfter, type JsonResponse } from './http.js';
import { isIdentityId, normalizeEmail, normalizeIp } from './normalize.js';
import { createBreaker, type BreakerState } from './breaker.js';
import type { IdgateEvent } from './events.js';
import { timeUpstreamCall } from './instrument.js';

/** The upstream profile of a verified session. */
export interface Profile {
  id: string;
  email: string;
  name?: string | undefined;
  attributes: Record<string, unknown>;
}

/** The upstream's answer to "is this identityId a live session?". */
export type ProfileResult =
  | { kind: 'valid'; profile: Profile }
  | { kind: 'expired' }
  | { kind: 'invalid' };

/** Typed calls to the BizKitHub-compatible identity API. */
export interface UpstreamClient {
  /** Log a customer in; resolves to the upstream's new identityId. Throws `LoginError`, `RequestError` or `UpstreamError`. */
  login(input: { email: string; password: string; customerRealIp?: string | undefined }, signal?: AbortSignal): Promise<string>;
  /** Verify a session. Throws `UpstreamError` when the upstream gives no definitive answer. */
  profile(identityId: string, signal?: AbortSignal): Promise<ProfileResult>;
  /** End a session upstream; an upstream without a logout route (404) is tolerated. */
  logout(identityId: string): Promise<void>;
  /** The circuit breaker's state: `open` means calls fail fast. */
  circuit(): BreakerState;
}

const profileOk = z.object({
  success: z.literal(true).optional(),
  contact: z.looseObject({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    email: z.string().min(3),
    name: z.string().optional().nullable(),
  }),
});
const sessionError = z.object({ error: z.enum(['SESSION_EXPIRED', 'INVALID_IDENTITY']) });
const loginOk = z.object({ success: z.literal(true), identityId: z.string() });
const loginFailed = z.object({
  success: z.literal(false).optional(),
  error: z.enum(['E001', 'E002', 'E003', 'E004', 'E005', 'E006', 'E007']),
  message: z.string().optional(),
});

/** The login API's documented messages (E001–E007), also used when the upstream sends none. */
export const LOGIN_MESSAGES: Record<UpstreamLoginCode, string> = {
  E001: 'Customer login failed.',
  E002: 'Customer e-mail does not exist.',
  E003: 'Customer have not a registered account.',
  E004: 'Wrong e-mail or password.',
  E005: 'Customer account has been banned.',
  E006: 'Too many login attempts.',
  E007: 'Customer mail has not been authorized.',
};

const LOGIN_ERRORS = {
  E001: ['LOGIN_FAILED', 401],
  E002: ['UNKNOWN_EMAIL', 401],
  E003: ['NO_ACCOUNT', 401],
  E004: ['INVALID_CREDENTIALS', 401],
  E005: ['ACCOUNT_BANNED', 403],
  E006: ['TOO_MANY_ATTEMPTS', 429],
  E007: ['EMAIL_NOT_VERIFIED', 403],
} as const;

/** The typed `LoginError` for an upstream E-code. */
export function loginErrorFor(code: UpstreamLoginCode, retryAfter?: number): LoginError {
  const [errorCode, status] = LOGIN_ERRORS[code];
  return new LoginError(errorCode, LOGIN_MESSAGES[code], { status, upstreamCode: code, ...(retryAfter === undefined ? {} : { retryAfter }) });
}

// The upstream's `error` (or `code`) word, for operators' diagnostics; anything
// longer or stranger is left out, so no echoed input reaches a log line.
const bodyCode = (body: unknown): string | undefined => {
  if (body === null || typeof body !== 'object') return undefined;
  const { error, code } = body as { error?: unknown; code?: unknown };
  const word = typeof error === 'string' ? error : typeof code === 'string' ? code : undefined;
  return word !== undefined && /^[A-Za-z0-9_.-]{1,64}$/.test(word) ? word : undefined;
};

const bad = (label: string, status: number) =>
  new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: upstream answered ${status} with an unexpected body`, { upstreamStatus: status });

/**
 * Build the upstream client from a resolved config. The API key goes in a
 * Bearer header (or `?apiKey=` with `apiKeyIn: 'query'`) and in the body where
 * BizKitHub's identityId guide puts it; it never appears in an error message.
 * @example
 * const client = createUpstreamClient(resolveConfig(), metrics.onEvent);
 * const result = await client.profile(identityId);
 */
export function createUpstreamClient(config: IdgateConfig, emit?: (event: IdgateEvent) => void): UpstreamClient {
  const base = config.upstreamUrl.replace(/\/+$/, '');
  const inQuery = config.apiKeyIn === 'query';
  const headers: Record<string, string> = inQuery ? {} : { authorization: `Bearer ${config.apiKey}` };
  const urlFor = (path: string) => (inQuery ? `${base}${path}?apiKey=${encodeURIComponent(config.apiKey)}` : `${base}${path}`);
  const common = { headers, ...(config.fetch ? { fetch: config.fetch } : {}) };
  const loginUrl = urlFor(config.paths.login);
  const profileUrl = urlFor(config.paths.profile);
  const logoutUrl = urlFor(config.paths.logout);
  // One breaker for the whole upstream: when profile calls time out, logins would too.
  const breaker = createBreaker(config.breaker, config.now);
  const call: typeof requestJson = (url, policy, options) => breaker.run(() => requestJson(url, policy, options));

  // An answer none of the contract's shapes matches. A 4xx is definitive (the
  // upstream is up and said no): not an outage, never retried, logged by the
  // caller; a 2xx/3xx off-contract is an unreadable answer, i.e. an outage.
  const unexpected = (label: string, res: JsonResponse): UpstreamError => {
    const upstreamCode = bodyCode(res.body);
    if (res.status === 401 || res.status === 403) {
      return new UpstreamError('UPSTREAM_REJECTED', `${label}: upstream refused our credentials (${res.status}); check apiKey`, { status: 502, upstreamStatus: res.status, upstreamCode });
    }
    if (res.status >= 400 && res.status < 500) {
      return new UpstreamError('UPSTREAM_REFUSED', `${label}: upstream answered ${res.status}, which idgate does not recognise`, { status: 502, upstreamStatus: res.status, upstreamCode });
    }
    return bad(label, res.status);
  };

  const client: UpstreamClient = {
    circuit: breaker.state,
    async login(input, signal) {
      const email = normalizeEmail(input.email);
      if (typeof input.password !== 'string' || input.password.length === 0 || input.password.length > 1024) {
        throw loginErrorFor('E004');
      }
      const customerRealIp = normalizeIp(input.customerRealIp);
      const res = await call(loginUrl, config.upstream, {
        ...common,
        label: 'login',
        body: { email, password: input.password, customerRealIp },
        ...(signal ? { signal } : {}),
        isAnswer: (r) => loginFailed.safeParse(r.body).success,
        // A login may have been processed before a 500 or a reset; only retry
        // what provably did not reach it (refused connection) or said "later".
        retryNetworkError: (err) => (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED',
        retryStatus: (status) => status === 429 || status === 503,
      });
      const ok = loginOk.safeParse(res.body);
      if (ok.success && res.status < 300) {
        if (!isIdentityId(ok.data.identityId)) throw bad('login', res.status);
        return ok.data.identityId;
      }
      const failed = loginFailed.safeParse(res.body);
      if (failed.success) {
        const retryAfter = failed.data.error === 'E006' ? parseRetryAfter(res.headers.get('retry-after')) ?? 60 : undefined;
        throw loginErrorFor(failed.data.error, retryAfter);
      }
      throw unexpected('login', res);
    },

    async profile(identityId, signal) {
      const res = await call(profileUrl, config.upstream, {
        ...common,
        label: 'profile',
        body: { apiKey: config.apiKey, identityId },
        ...(signal ? { signal } : {}),
      });
      const ended = sessionError.safeParse(res.body);
      if (ended.success) return { kind: ended.data.error === 'SESSION_EXPIRED' ? 'expired' : 'invalid' };
      const ok = profileOk.safeParse(res.body);
      if (!ok.success || res.status >= 300) throw unexpected('profile', res);
      const { id, email, name, success: _s, ...attributes } = { ...ok.data.contact, success: undefined };
      return {
        kind: 'valid',
        profile: { id, email: email.trim().toLowerCase(), name: name ?? undefined, attributes },
      };
    },

    async logout(identityId) {
      let res: JsonResponse;
      try {
        res = await call(logoutUrl, config.upstream, {
          ...common,
          label: 'logout',
          body: { apiKey: config.apiKey, identityId },
        });
      } catch (err) {
        // No logout route, whatever the 404's body (an HTML page included): tolerated.
        if (err instanceof UpstreamError && !err.outage && err.upstreamStatus === 404) return;
        throw err;
      }
      if (res.status === 404 || res.status < 300) return;
      if (sessionError.safeParse(res.body).success) return; // already gone upstream
      throw unexpected('logout', res);
    },
  };
  if (!emit) return client;
  // Every call is reported (timing, outcome) for metrics and traces; see timeUpstreamCall.
  return {
    circuit: client.circuit,
    login: (input, signal) => timeUpstreamCall(emit, 'login', () => client.login(input, signal)),
    profile: (identityId, signal) => timeUpstreamCall(emit, 'verify', () => client.profile(identityId, signal)),
    logout: (identityId) => timeUpstreamCall(emit, 'logout', () => client.logout(identityId)),
  };
}
