import type { BodySource } from './body.js';
import { resolveConfig, type IdgateConfig, type IdgateOptions } from './config.js';
import { clearedCookie, cookieIsSecure, readCookie, sessionCookie } from './cookies.js';
import { COOKIE_HEADERS, NONE, type Decision, type Header } from './decision.js';
import type { IdgateEvent } from './events.js';
import type { Identity } from './identity.js';
import { redact, silentLogger, type Logger } from './logger.js';
import { clientRetryAfter } from './http.js';
import { isNavigation, pathOf, type IdentityRequest } from './request.js';
import { safeReturnTo } from './returnTo.js';
import type { UpstreamClient } from './upstream.js';
import { providerClient } from './provider.js';
import { ANONYMOUS, createVerifier, type AuthState, type Verifier } from './verifier.js';
import { login, logout } from './flows.js';
import { createLoginThrottle, type LoginThrottle } from './throttle.js';
import { compileProtect } from './protect.js';
import { createDiagnostics } from './diagnostics.js';
import type { AccessRule } from './kit.js';

/** Options of `requireIdentity()` in every adapter. */
export interface RequireOptions {
  /** Extra condition on the identity; false answers 403 `{ "error": "FORBIDDEN" }`. */
  where?: (identity: Identity) => boolean;
}

/** The parts of a request `authenticate` reads: the cookie header, or parsed cookies. */
export type CookieSource = Pick<IdentityRequest, 'headers'> & { cookies?: Record<string, string | undefined> | undefined };

/** One configured idgate: what every adapter wraps. */
export interface Idgate {
  readonly config: IdgateConfig;
  readonly upstream: UpstreamClient;
  readonly verifier: Verifier;
  readonly logger: Logger;
  /** idgate's own login limiter (per e-mail and per client IP), used by `login`. */
  readonly throttle: LoginThrottle;
  /** Resolve the request's session cookie: synchronous on a cache hit, a promise otherwise. */
  authenticate(req: CookieSource): AuthState | Promise<AuthState>;
  /**
   * `authenticate` for a runtime whose request has no header object: the raw
   * `Cookie` header (`request.headers.get('cookie')`). Same cost on a hit.
   * @example const state = gate.authenticateHeader(c.req.raw.headers.get('cookie'));
   */
  authenticateHeader(cookieHeader: string | null | undefined): AuthState | Promise<AuthState>;
  /**
   * True when the `protect` option covers a request with this target (`req.url`
   * as sent, query included): any view a router could take of it matches, or
   * it is not a path at all. The login URL never is. See `protect.ts`.
   */
  protects(target: string): boolean;
  /** True when a route registered with this pattern (e.g. `/members/:id`) serves only protected paths. */
  protectsRoute(pattern: string): boolean;
  /**
   * Decide what happens to a request whose cookie resolved to `state`:
   * continue, redirect to login, or reject. An identity is required when
   * `rule.required` is true or the `protect` option covers the request;
   * `rule.where` adds a predicate on a signed-in identity (false: 403). With
   * a rule (a route's check after the middleware), a signed-in request gets
   * only what the middleware's decision did not already carry.
   * @example gate.decide(state, req)                        // the protect option alone decides
   * @example gate.decide(state, req, { required: true })    // this route requires an identity
   */
  decide(state: AuthState, req: IdentityRequest, rule?: AccessRule): Decision;
  /** The login flow: CSRF check, body validation, upstream login, cookie, redirect or JSON. */
  login(req: IdentityRequest, body: unknown, stream?: BodySource): Promise<Decision>;
  /** The logout flow: upstream logout, cache invalidation, cookie cleared; `stream` (unparsed body) is capped at `bodyLimit.login`. */
  logout(req: IdentityRequest, stream?: BodySource): Promise<Decision>;
  /** Emit an event to `onEvent` (errors in the listener are logged, never thrown). */
  emit(event: IdgateEvent): void;
  /**
   * Start-up check: the provider's `check` (BizKitHub: one cheap upstream
   * call, the profile of an identity that does not exist; a provider without
   * `check` is not probed). Resolves when the upstream is reachable and
   * accepts the key; throws `ConfigError` naming the variable to fix when it
   * rejects the key, answers 404 on the profile path, or its host does not
   * resolve or refuses connections; throws `UpstreamError` on an outage
   * (timeout, 5xx).
   * @example
   * const gate = createIdgate();
   * await gate.check(); // before app.listen()
   */
  check(): Promise<void>;
}

/**
 * A route rule's answer for a signed-in request whose headers the
 * middleware's decision already carried (the same state, nothing renewed):
 * continue, writing nothing again.
 */
const ALREADY_APPLIED: Decision = Object.freeze({ kind: 'next', identity: null, status: 'authenticated', headers: NONE, setCookies: NONE });

const ERROR_FOR = { anonymous: 'UNAUTHENTICATED', expired: 'SESSION_EXPIRED', invalid: 'INVALID_IDENTITY' } as const;

/**
 * Create an idgate from options (or, with none, from `IDGATE_*` environment
 * variables). Options are validated once, here; a bad one throws `ConfigError`.
 * Adapters accept either options or an existing gate, so several middlewares
 * can share one cache.
 * @example
 * const gate = createIdgate({ upstreamUrl: 'http://127.0.0.1:4010', apiKey: process.env.IDGATE_API_KEY });
 * app.use(identityMiddleware(gate));
 */
export function createIdgate(options?: IdgateOptions | Idgate): Idgate {
  if (options && isIdgate(options)) return options;
  const config = resolveConfig(options as IdgateOptions | undefined);
  const logger = config.logger ? redactingLogger(config.logger) : silentLogger;
  const onEvent = config.onEvent;
  const listener = onEvent
    ? (event: IdgateEvent) => {
        try {
          onEvent(event);
        } catch (err) {
          logger.error({ err }, 'idgate: onEvent listener threw');
        }
      }
    : undefined;
  const emit = listener ?? (() => {});
  // Core wraps the provider (the built-in BizKitHub one unless `provider` gave
  // another): deadline, breaker, timing events, typed errors, and diagnostics:
  // configuration-class failures (key rejected, path 404, DNS, refused) reach
  // the operator once per cause per minute, through the logger or process warnings.
  const diagnostics = createDiagnostics({ logger: config.logger && logger, now: config.now });
  const upstream = providerClient(config.provider, { breaker: config.breaker, now: config.now, emit: listener, diagnostics });
  const verifier = createVerifier(config, upstream, listener, logger);
  const throttle = createLoginThrottle(config, emit);
  const renewMs = config.cookie.renewInterval * 1000;
  const absoluteMs = config.cookie.absoluteLifetime * 1000;
  const protect = compileProtect(config);
  const protects = protect.target;
  const cookieName = config.cookieName;
  const loginPath = pathOf(config.loginUrl);

  function deny(req: IdentityRequest, status: 'anonymous' | 'expired' | 'invalid', setCookies: readonly string[]): Decision {
    const path = pathOf(req.url);
    if (isNavigation(req)) {
      const returnTo = encodeURIComponent(safeReturnTo(req.url));
      // The login page can say why: the session ran out, or the cookie is no session.
      const reason = status === 'anonymous' ? '' : `&reason=${status}`;
      const sep = config.loginUrl.includes('?') ? '&' : '?';
      // Never redirect the login page to itself: a loop is worse than a 401.
      if (path !== loginPath) {
        return { kind: 'redirect', statusCode: 303, location: `${config.loginUrl}${sep}returnTo=${returnTo}${reason}`, headers: COOKIE_HEADERS, setCookies };
      }
    }
    return { kind: 'reject', statusCode: 401, body: { error: ERROR_FOR[status] }, headers: COOKIE_HEADERS, setCookies };
  }

  // Rolling cookie: at most once per renewInterval per session (per instance),
  // never past the absolute lifetime, which the signed cookie itself carries.
  function renew(state: AuthState, req: IdentityRequest): AuthState {
    const session = state.session;
    if (session === undefined) return state;
    // The clock as the lookup that answered this request read it (no second read per request).
    const t = session.seenAt;
    if (t - session.renewedAt < renewMs) return state;
    const maxAge = Math.min(config.cookie.maxAge, Math.floor((session.since + absoluteMs - t) / 1000));
    if (maxAge <= 0) return state;
    session.renewedAt = t;
    // A response that sets the session cookie is never stored by a cache, whatever `noStore` says.
    const headers = config.noStore ? state.headers : COOKIE_HEADERS;
    return { ...state, headers, setCookies: [sessionCookie(config, session.value, cookieIsSecure(config, req), maxAge)] };
  }

  const gate: Idgate = {
    config,
    upstream,
    verifier,
    logger,
    throttle,
    emit,
    protects,
    protectsRoute: protect.route,

    authenticate(req) {
      // Only the raw header, read by the cookie grammar: never a parser's
      // view, which may have taken a name from inside another cookie's value.
      const raw = readCookie(req.headers.cookie, cookieName);
      if (raw === undefined) return ANONYMOUS;
      // A hit is one map lookup; on a miss the signature is checked before any I/O.
      return verifier.lookup(raw);
    },

    authenticateHeader(header) {
      const raw = readCookie(header ?? undefined, cookieName);
      if (raw === undefined) return ANONYMOUS;
      return verifier.lookup(raw);
    },

    decide(state, req, rule) {
      // The hit path: a signed-in request needs no protect match, and a route
      // rule after the middleware writes nothing the middleware has not.
      if (state.status === 'authenticated') {
        if (rule?.where && state.identity && !rule.where(state.identity)) {
          return { kind: 'reject', statusCode: 403, body: { error: 'FORBIDDEN' }, headers: state.headers, setCookies: NONE };
        }
        // A rule runs after the middleware, whose decision already renewed the cookie if it was due.
        if (rule !== undefined) return ALREADY_APPLIED;
        return config.cookie.rolling || state.session?.legacy ? renew(state, req) : state;
      }
      const required = rule?.required === true || protects(req.url);
      switch (state.status) {
        case 'anonymous':
          return required ? deny(req, 'anonymous', NONE) : state;
        case 'expired':
        case 'invalid': {
          const clear = [clearedCookie(config, cookieIsSecure(config, req))];
          if (required) return deny(req, state.status, clear);
          return { ...state, headers: COOKIE_HEADERS, setCookies: clear };
        }
        case 'unavailable': {
          if (!required) return state;
          // The upstream refused (misconfiguration, an answer outside its contract): 502, nothing to retry.
          if (state.refused !== undefined) return { kind: 'reject', statusCode: 502, body: { error: state.refused }, headers: COOKIE_HEADERS, setCookies: NONE };
          const retry: Header = ['retry-after', String(clientRetryAfter(state.retryAfter, config.retryAfterCap, config.retryAfter))];
          return { kind: 'reject', statusCode: 503, body: { error: 'UPSTREAM_UNAVAILABLE' }, headers: [...COOKIE_HEADERS, retry], setCookies: NONE };
        }
      }
    },

    login: (req, body, stream) => login(gate, req, body, stream),
    logout: (req, stream) => logout(gate, req, stream),
    check: () => upstream.check(),
  };
  Object.defineProperty(gate, IDGATE, { value: true });
  return Object.freeze(gate);
}

const IDGATE = Symbol.for('idgate.gate');
/** True for an object made by `createIdgate`. */
export function isIdgate(value: unknown): value is Idgate {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[IDGATE] === true;
}

function redactingLogger(logger: Logger): Logger {
  const wrap = (level: keyof Logger) => (obj: object, msg?: string) => logger[level](redact(obj) as object, msg);
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
