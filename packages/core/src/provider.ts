// The identity provider: the upstream that issues and answers for opaque
// session tokens. A provider speaks only its wire; core wraps every provider
// the same way (deadline, circuit breaker, timing events, operator
// diagnostics, typed errors, answer checks), so none has to get those right.
import { createBreaker, type BreakerOptions } from './breaker.js';
import { diagnose, DIAGNOSTIC_NAMES, observeUpstream, providerNames, type DiagnosticNames, type DiagnosticsReporter } from './diagnostics.js';
import { ConfigError, IdgateError, LoginError, RequestError, UpstreamError, type IdgateErrorCode } from './errors.js';
import type { IdgateEvent } from './events.js';
import { timeUpstreamCall } from './instrument.js';
import { isIdentityId, normalizeEmail, normalizeIp } from './normalize.js';

/** The longest password core passes to a provider. */
const MAX_PASSWORD = 1024;
import type { UpstreamClient } from './upstream.js';

/** The profile of a verified session, as a provider answers it. */
export interface Profile {
  /** Stable id of the customer (not the session token). */
  id: string;
  /** The customer's e-mail; core trims and lowercases it. */
  email: string;
  name?: string | undefined;
  /** The rest of the profile, as the app should see it (`identity.attributes`). */
  attributes: Record<string, unknown>;
}

/** A provider's definitive answer to "is this token a live session?". */
export type ProfileResult =
  | { kind: 'valid'; profile: Profile }
  | { kind: 'expired' }
  | { kind: 'invalid' };

/** What the login form carried, as core hands it to a provider. */
export interface LoginInput {
  /** Canonical e-mail (idgate's one rule: trimmed, NFC, lowercased, ASCII domain); core has checked it. */
  email: string;
  /** The password as typed. Never log it. */
  password: string;
  /** The client's IP as the framework sees it (its trust-proxy setting), when known. */
  customerRealIp?: string | undefined;
}

/**
 * An upstream that issues opaque session tokens and answers for them, behind
 * `createIdgate({ provider })`. BizKitHub is the built-in one
 * (`bizkithubProvider`). A provider speaks only its wire: core bounds every
 * call by `timeout`, runs it through the circuit breaker, times it
 * (`upstream-call` events), reports configuration-class failures to the
 * operator, checks its answers and turns anything it throws into a typed
 * error, so a provider that throws a plain `Error` still yields a 503, never a
 * stack or a token in a response.
 *
 * Errors: throw `LoginError` (core's codes: `INVALID_CREDENTIALS`,
 * `LOGIN_FAILED`, `UNKNOWN_EMAIL`, `NO_ACCOUNT` answer 401; `ACCOUNT_BANNED`,
 * `EMAIL_NOT_VERIFIED` 403; `TOO_MANY_ATTEMPTS` 429) for a refused login, and
 * `UpstreamError` when there is no definitive answer: `outage: true` (the
 * default for `UPSTREAM_UNAVAILABLE`, `UPSTREAM_TIMEOUT`, `UPSTREAM_BAD_RESPONSE`)
 * is a 503 with Retry-After, may be served stale and counts for the breaker;
 * `outage: false` (`UPSTREAM_REFUSED`, `UPSTREAM_REJECTED`) is a 502.
 * An expired or unknown session is an answer (`verify`), never an error.
 *
 * Messages: idgate logs the message of an `UpstreamError` you throw, so keep
 * tokens and passwords out of it; anything else you throw is logged by its
 * name only.
 * @example
 * const provider: IdentityProvider = {
 *   name: 'sessions',
 *   async login({ email, password }, signal) {
 *     const res = await fetch(`${base}/sessions`, { method: 'POST', body: JSON.stringify({ email, password }), signal });
 *     if (res.status === 401) throw new LoginError('INVALID_CREDENTIALS', 'Wrong e-mail or password.', { status: 401 });
 *     if (!res.ok) throw new UpstreamError('UPSTREAM_UNAVAILABLE', `login: upstream answered ${res.status}`);
 *     return ((await res.json()) as { token: string }).token;
 *   },
 *   async verify(token, signal) {
 *     const res = await fetch(`${base}/sessions/${token}`, { signal });
 *     if (res.status === 404) return { kind: 'invalid' };
 *     if (res.status === 410) return { kind: 'expired' };
 *     if (!res.ok) throw new UpstreamError('UPSTREAM_UNAVAILABLE', `verify: upstream answered ${res.status}`);
 *     const user = (await res.json()) as { id: string; email: string };
 *     return { kind: 'valid', profile: { id: user.id, email: user.email, attributes: {} } };
 *   },
 *   async logout(token, signal) {
 *     await fetch(`${base}/sessions/${token}`, { method: 'DELETE', signal });
 *   },
 * };
 * const gate = createIdgate({ provider, secret: process.env.IDGATE_SECRET });
 */
export interface IdentityProvider {
  /** Short name for logs and diagnostics: a letter or digit, then letters, digits, `.`, `_` or `-` (at most 64). */
  readonly name: string;
  /**
   * Sign a customer in; resolves to the new session's opaque token, which
   * must pass `isToken`. A refusal throws `LoginError`; no definitive answer,
   * `UpstreamError`. `signal` aborts when core stops waiting.
   */
  login(input: LoginInput, signal: AbortSignal): Promise<string>;
  /**
   * Is `token` a live session? Resolves to its profile, `expired` or
   * `invalid`; throws `UpstreamError` when there is no definitive answer.
   * Core caches the answer: it is not called on a cache hit.
   */
  verify(token: string, signal: AbortSignal): Promise<ProfileResult>;
  /**
   * End the session upstream. Core has already ended it in idgate (cache,
   * tombstone, cookie); a failure here is logged, not shown to the customer.
   */
  logout(token: string, signal: AbortSignal): Promise<void>;
  /**
   * The grammar of this provider's tokens: the signed cookie carries only
   * tokens it accepts, and a cookie whose token it refuses never reaches
   * `verify`. Whatever it says, a token is never longer than 1024 characters
   * and never holds `.`, `;`, `,`, `"`, `\`, spaces or controls (the signed
   * cookie's own grammar). @default isOpaqueToken (1 to 256 of `A–Z a–z 0–9 _ -`)
   */
  isToken?(value: string): boolean;
  /**
   * A cheap call proving the provider is configured and reachable, for
   * `gate.check()` at start-up: throw `ConfigError` (or an `UpstreamError`
   * with `outage: false`) for a configuration problem, `UpstreamError` for an
   * outage. Without it, `gate.check()` resolves without a call.
   */
  check?(signal: AbortSignal): Promise<void>;
  /**
   * The longest one call may take, ms: past it core aborts `signal` and
   * answers `UPSTREAM_TIMEOUT` (an outage), whether or not the call settles.
   * @default 10_000
   */
  readonly timeout?: number;
}

/** Core's view of a provider: `UpstreamClient` plus the token grammar, the start-up check and the provider itself. */
export interface ProviderClient extends UpstreamClient {
  readonly provider: IdentityProvider;
  isToken(value: string): boolean;
  /** `gate.check()`: the provider's `check`, with configuration problems as `ConfigError` naming what to fix. */
  check(): Promise<void>;
}

/** How core wraps a provider. */
export interface ProviderClientOptions {
  /** Circuit breaker settings (the `breaker` option). */
  breaker: BreakerOptions;
  /** Clock for the breaker. @default Date.now */
  now?: (() => number) | undefined;
  /** Receives an `upstream-call` event per call. */
  emit?: ((event: IdgateEvent) => void) | undefined;
  /** Where configuration-class failures go (see `createDiagnostics`). */
  diagnostics?: DiagnosticsReporter | undefined;
}

/** Longest session token the signed cookie carries, whatever a provider's grammar allows. */
export const MAX_TOKEN_LENGTH = 1024;
const DEFAULT_TIMEOUT = 10_000;
const CHECK_TIMEOUT = 10_000;

/**
 * The default token grammar: 1 to 256 characters of `A–Z a–z 0–9 _ -`
 * (base64url without padding, hex, UUIDs without braces…). Never a `.`,
 * which separates the signed cookie's parts.
 * @example isOpaqueToken('Jq3o0x9r-5PpZ_4q8bKc1w') // true
 * @example isOpaqueToken('a.b') // false
 */
export function isOpaqueToken(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // 0-9, A-Z, a-z, '-' (45), '_' (95)
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) return false;
  }
  return true;
}

// The signed cookie's grammar for its token part: RFC 6265 cookie-octets
// without '.', at most MAX_TOKEN_LENGTH.
function fitsCookie(value: string): boolean {
  if (value.length === 0 || value.length > MAX_TOKEN_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x2e || c === 0x3b || c === 0x5c) return false;
  }
  return true;
}

/** The token check core uses for a provider: its grammar within the cookie's, never throwing. */
function grammarOf(provider: IdentityProvider): (value: string) => boolean {
  const own = provider.isToken;
  // The built-in grammars are within the cookie's already (and isIdentityId is BizKitHub's hot check).
  if (own === undefined) return isOpaqueToken;
  if (own === isIdentityId || own === isOpaqueToken) return own;
  return (value) => {
    if (!fitsCookie(value)) return false;
    try {
      return provider.isToken!(value) === true;
    } catch {
      return false;
    }
  };
}

const PROVIDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const fn = (v: unknown) => typeof v === 'function';

/**
 * Why `value` is not a usable `IdentityProvider` (the field and what was
 * expected), or undefined when it is one. Checked once, at start-up.
 * @example providerProblem({ name: 'x' }) // ['login', 'expected a function']
 */
export function providerProblem(value: unknown): [field: string, expected: string] | undefined {
  if (value === null || typeof value !== 'object') return ['', 'expected an IdentityProvider: { name, login, verify, logout }'];
  const p = value as Record<string, unknown>;
  if (typeof p.name !== 'string' || !PROVIDER_NAME.test(p.name)) return ['name', 'expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'];
  for (const method of ['login', 'verify', 'logout'] as const) if (!fn(p[method])) return [method, 'expected a function'];
  for (const method of ['isToken', 'check'] as const) if (p[method] !== undefined && !fn(p[method])) return [method, 'expected a function or undefined'];
  if (p.timeout !== undefined && !(typeof p.timeout === 'number' && Number.isInteger(p.timeout) && p.timeout > 0)) return ['timeout', 'expected a positive integer (ms)'];
  return undefined;
}

// Run `call` with a signal that aborts at the deadline (or when `outer`
// aborts), and stop waiting then even if the provider never settles.
function bounded<T>(ms: number, label: string, outer: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  return new Promise<T>((resolve, reject) => {
    const stop = (err: UpstreamError) => {
      controller.abort(err);
      reject(err);
    };
    timer = setTimeout(() => stop(new UpstreamError('UPSTREAM_TIMEOUT', `${label}: no answer within ${ms} ms`)), ms);
    timer.unref?.();
    if (outer) {
      onAbort = () => stop(new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: aborted by the caller`));
      if (outer.aborted) return onAbort();
      outer.addEventListener('abort', onAbort, { once: true });
    }
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(call(controller.signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(resolve, reject);
  }).finally(() => {
    clearTimeout(timer);
    if (onAbort) outer?.removeEventListener('abort', onAbort);
  });
}

// An Error's name when it is a plain identifier; never its message, which may hold a token.
const nameOf = (err: unknown): string => {
  const name = err instanceof Error ? err.name : typeof err;
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'Error';
};

/** Whatever a provider threw, as the `UpstreamError` core handles: an outage unless it says otherwise. */
function asUpstreamError(err: unknown, label: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: the provider failed (${nameOf(err)})`, { cause: err });
}

// Core's stable login refusals and the status each answers with.
const LOGIN_STATUS: Partial<Record<IdgateErrorCode, number>> = {
  LOGIN_FAILED: 401,
  UNKNOWN_EMAIL: 401,
  NO_ACCOUNT: 401,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_BANNED: 403,
  EMAIL_NOT_VERIFIED: 403,
  TOO_MANY_ATTEMPTS: 429,
};

/** A login failure as the login flow handles it: a refusal with core's code and status, a request error, or an `UpstreamError`. */
function loginFailure(err: unknown, label: string): IdgateError {
  if (err instanceof LoginError) {
    const status = LOGIN_STATUS[err.code];
    if (status === undefined) return new UpstreamError('UPSTREAM_REFUSED', `${label}: the provider refused with ${err.code}, which is not a login refusal`, { status: 502, cause: err });
    if (status === err.status) return err;
    return new LoginError(err.code, err.message, {
      status,
      cause: err,
      ...(err.upstreamCode === undefined ? {} : { upstreamCode: err.upstreamCode }),
      ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
    });
  }
  if (err instanceof RequestError && err.code === 'BAD_REQUEST') return err;
  return asUpstreamError(err, label);
}

const EXPIRED_RESULT: ProfileResult = Object.freeze({ kind: 'expired' });
const INVALID_RESULT: ProfileResult = Object.freeze({ kind: 'invalid' });

/** A provider's `verify` answer checked and copied, or an `UpstreamError` (an outage: the answer is unreadable). */
function checkedResult(value: unknown, label: string): ProfileResult {
  const bad = () => new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: the provider answered something that is not a ProfileResult`);
  if (value === null || typeof value !== 'object') throw bad();
  const { kind, profile } = value as { kind?: unknown; profile?: unknown };
  if (kind === 'expired') return EXPIRED_RESULT;
  if (kind === 'invalid') return INVALID_RESULT;
  if (kind !== 'valid' || profile === null || typeof profile !== 'object') throw bad();
  const { id, email, name, attributes } = profile as Record<string, unknown>;
  const attributesOk = attributes === undefined || (typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes));
  if (typeof id !== 'string' || id === '' || typeof email !== 'string' || email.trim() === '' || !attributesOk) throw bad();
  if (name !== undefined && name !== null && typeof name !== 'string') throw bad();
  return {
    kind: 'valid',
    profile: { id, email: email.trim().toLowerCase(), name: name ?? undefined, attributes: (attributes as Record<string, unknown> | undefined) ?? {} },
  };
}

/**
 * Wrap a provider the way core uses every provider: each call bounded by the
 * provider's `timeout`, run through one circuit breaker (outages only),
 * timed as an `upstream-call` event, its configuration-class failures
 * reported to `diagnostics`, its answers checked and anything it throws
 * turned into a typed error. Login e-mails are canonicalised before the call.
 * A cache hit never gets here.
 * @example
 * const client = providerClient(provider, { breaker: config.breaker, emit: config.onEvent });
 * const result = await client.profile(token);
 */
export function providerClient(provider: IdentityProvider, options: ProviderClientOptions): ProviderClient {
  const problem = providerProblem(provider);
  if (problem) throw new ConfigError(`idgate: option \`provider${problem[0] ? `.${problem[0]}` : ''}\` ${problem[1]}`);
  const name = provider.name;
  const timeout = provider.timeout ?? DEFAULT_TIMEOUT;
  const isToken = grammarOf(provider);
  const names = namesOf(provider);
  // One breaker for the whole provider: when verifications time out, logins would too.
  const breaker = createBreaker(options.breaker, options.now);

  const wire: UpstreamClient = {
    circuit: breaker.state,
    login: async (input, signal) => {
      const label = `${name} login`;
      // What the client got wrong is answered before any call, even while the
      // circuit is open: a bad e-mail or client IP is a 400, a password no
      // account can have (empty, over 1,024 characters) the same 401 as a wrong one.
      const email = normalizeEmail(input.email);
      const { password } = input;
      if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD) {
        throw new LoginError('INVALID_CREDENTIALS', 'Wrong e-mail or password.', { status: 401 });
      }
      const customerRealIp = input.customerRealIp === undefined ? undefined : normalizeIp(input.customerRealIp);
      return breaker.run(async () => {
        try {
          const token = await bounded(timeout, label, signal, (s) => provider.login({ email, password, customerRealIp }, s));
          if (typeof token !== 'string' || !isToken(token)) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: the provider's token does not match its grammar`);
          return token;
        } catch (err) {
          throw loginFailure(err, label);
        }
      });
    },
    profile: (token, signal) =>
      breaker.run(async () => {
        const label = `${name} verify`;
        try {
          return checkedResult(await bounded(timeout, label, signal, (s) => provider.verify(token, s)), label);
        } catch (err) {
          throw asUpstreamError(err, label);
        }
      }),
    logout: (token) =>
      breaker.run(async () => {
        const label = `${name} logout`;
        try {
          await bounded(timeout, label, undefined, (s) => provider.logout(token, s));
        } catch (err) {
          throw asUpstreamError(err, label);
        }
      }),
  };
  const emit = options.emit;
  // Every call is reported (timing, outcome) for metrics and traces; see timeUpstreamCall.
  const timed: UpstreamClient = emit
    ? {
        circuit: wire.circuit,
        login: (input, signal) => timeUpstreamCall(emit, 'login', () => wire.login(input, signal), name),
        profile: (token, signal) => timeUpstreamCall(emit, 'verify', () => wire.profile(token, signal), name),
        logout: (token) => timeUpstreamCall(emit, 'logout', () => wire.logout(token), name),
      }
    : wire;
  const observed = options.diagnostics ? observeUpstream(timed, options.diagnostics, names) : timed;
  return {
    provider,
    isToken,
    circuit: observed.circuit,
    login: observed.login,
    profile: observed.profile,
    logout: observed.logout,
    check: () => checkProvider(provider, names),
  };
}

/** What a diagnostic about this provider calls its settings: the built-in provider's own names, else generic ones. */
function namesOf(provider: IdentityProvider): DiagnosticNames {
  return (provider as { [DIAGNOSTIC_NAMES]?: DiagnosticNames })[DIAGNOSTIC_NAMES] ?? providerNames(provider.name);
}

/**
 * Run the provider's start-up check: a configuration problem throws
 * `ConfigError` with the diagnostic's message (naming what to fix), an
 * outage `UpstreamError`; a provider without `check` resolves at once.
 */
async function checkProvider(provider: IdentityProvider, names: DiagnosticNames): Promise<void> {
  if (provider.check === undefined) return;
  const label = `${provider.name} check`;
  try {
    await bounded(Math.max(CHECK_TIMEOUT, provider.timeout ?? 0), label, undefined, (s) => provider.check!(s));
  } catch (caught) {
    if (caught instanceof ConfigError) throw caught;
    const err = asUpstreamError(caught, label);
    const diagnostic = diagnose(err, 'profile', names);
    if (diagnostic) throw new ConfigError(diagnostic.message, { cause: err });
    throw new UpstreamError(err.code, `idgate: the upstream at ${names.host} gave no usable answer (${err.message}); check ${names.upstreamUrl}`, {
      cause: err,
      outage: err.outage,
      ...(err.upstreamStatus === undefined ? {} : { upstreamStatus: err.upstreamStatus }),
    });
  }
}
