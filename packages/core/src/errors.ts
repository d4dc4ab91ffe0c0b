/** Every stable error code idgate raises; a client or a log line can switch on it. */
export type IdgateErrorCode =
  | 'CONFIG_INVALID'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_REJECTED'
  | 'UPSTREAM_REFUSED'
  | 'INVALID_CREDENTIALS'
  | 'LOGIN_FAILED'
  | 'UNKNOWN_EMAIL'
  | 'NO_ACCOUNT'
  | 'ACCOUNT_BANNED'
  | 'TOO_MANY_ATTEMPTS'
  | 'EMAIL_NOT_VERIFIED'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'FORBIDDEN_ORIGIN';

/**
 * Base class of every error idgate throws: a stable `code`, the HTTP `status`
 * it maps to, and an ES2022 `cause`. A package that adds its own failures
 * (`@idgate/chat`, `@idgate/kyc`) subclasses it with its own code union, so
 * core's union stays closed over core's failures.
 * @example
 * if (err instanceof IdgateError && err.code === 'UPSTREAM_TIMEOUT') retryLater();
 * @example
 * class ChatError extends IdgateError<'CHAT_RATE_LIMITED' | 'CHAT_BAD_REQUEST'> {}
 */
export class IdgateError<Code extends string = IdgateErrorCode> extends Error {
  /** Stable machine-readable code. */
  readonly code: Code;
  /** HTTP status this failure answers with. */
  readonly status: number;
  constructor(code: Code, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options?.status ?? 500;
  }
}

/** Invalid options, raised once at start-up; the message names the field. */
export class ConfigError extends IdgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, { status: 500, ...options });
  }
}

/** The codes of `UpstreamError`. */
export type UpstreamErrorCode = 'UPSTREAM_TIMEOUT' | 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_BAD_RESPONSE' | 'UPSTREAM_REJECTED' | 'UPSTREAM_REFUSED';

/**
 * The upstream gave no answer idgate can use. Two kinds, told apart by
 * `outage`, which is decided where the error is made:
 * - an outage (`outage: true`): timeout, network error, 5xx, 429, a 2xx whose
 *   body is unreadable or off-contract. Transient: retried, counted by the
 *   circuit breaker, answered 503 + Retry-After, may be served stale.
 * - a definitive refusal (`outage: false`): a 4xx idgate does not recognise
 *   (`UPSTREAM_REFUSED`, or `UPSTREAM_BAD_RESPONSE` when its body is not JSON)
 *   or our API key refused (`UPSTREAM_REJECTED`). Never retried, never counted
 *   by the breaker, never answered with Retry-After.
 * Neither is ever cached as "invalid".
 * @example if (err instanceof UpstreamError && !err.outage) logger.error({ status: err.upstreamStatus }, 'upstream refused');
 */
export class UpstreamError extends IdgateError {
  declare readonly code: UpstreamErrorCode;
  /** Seconds the caller may suggest in Retry-After, when known (raw: cap it with `clientRetryAfter` before sending). */
  readonly retryAfter: number | undefined;
  /** True when the upstream is (maybe) down; false for a definitive answer. @default false for UPSTREAM_REJECTED / UPSTREAM_REFUSED, else true */
  readonly outage: boolean;
  /** The HTTP status the upstream answered, when it answered. */
  readonly upstreamStatus: number | undefined;
  /** The upstream's own error code from its body (e.g. `INVALID_API_KEY`), when it gave a short word-like one. */
  readonly upstreamCode: string | undefined;
  constructor(
    code: UpstreamErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfter?: number | undefined; status?: number; outage?: boolean; upstreamStatus?: number; upstreamCode?: string | undefined },
  ) {
    super(code, message, { status: options?.status ?? 503, cause: options?.cause });
    this.retryAfter = options?.retryAfter;
    this.outage = options?.outage ?? (code !== 'UPSTREAM_REJECTED' && code !== 'UPSTREAM_REFUSED');
    this.upstreamStatus = options?.upstreamStatus;
    this.upstreamCode = options?.upstreamCode;
  }
}

/** BizKitHub login error codes (`POST /api/v1/customer/login`, E001–E007). */
export type UpstreamLoginCode = 'E001' | 'E002' | 'E003' | 'E004' | 'E005' | 'E006' | 'E007';

/**
 * A login the upstream refused. `upstreamCode` keeps the raw E-code for the
 * server; what the client sees is decided by the login flow.
 * @example
 * catch (err) { if (err instanceof LoginError && err.upstreamCode === 'E005') audit.banned(email); }
 */
export class LoginError extends IdgateError {
  /** The upstream's E-code, when the upstream gave one. */
  readonly upstreamCode: UpstreamLoginCode | undefined;
  /** Seconds before another attempt makes sense (E006). */
  readonly retryAfter: number | undefined;
  constructor(
    code: IdgateErrorCode,
    message: string,
    options: { status: number; upstreamCode?: UpstreamLoginCode; retryAfter?: number; cause?: unknown },
  ) {
    super(code, message, options);
    this.upstreamCode = options.upstreamCode;
    this.retryAfter = options.retryAfter;
  }
}

/** The request itself is wrong (bad body, bad e-mail, bad IP, body over its limit, cross-site form post). */
export class RequestError extends IdgateError {
  constructor(code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'FORBIDDEN_ORIGIN', message: string, options?: { status?: number; cause?: unknown }) {
    const status = options?.status ?? (code === 'FORBIDDEN_ORIGIN' ? 403 : code === 'PAYLOAD_TOO_LARGE' ? 413 : 400);
    super(code, message, { status, cause: options?.cause });
  }
}

/**
 * idgate's own login limiter refused an attempt before any upstream call, or
 * the upstream's lockout (E006) was answered from the limiter. The client sees
 * one 429 `TOO_MANY_ATTEMPTS` whatever the e-mail; `reason` and `key` (a keyed
 * hash, never the raw e-mail or IP) are for the server's own logs and events.
 * @example
 * if (err instanceof LoginThrottledError) metrics.throttled(err.reason);
 */
export class LoginThrottledError extends LoginError {
  /** Which counter refused: the e-mail's or the client IP's. */
  readonly reason: 'email' | 'ip';
  /** Keyed hash (HMAC) of the e-mail or IP whose counter refused. */
  readonly key: string;
  /** True when the upstream's own lockout (E006) caused it. */
  readonly fromUpstream: boolean;
  constructor(reason: 'email' | 'ip', key: string, retryAfter: number, options?: { upstreamCode?: 'E006'; cause?: unknown }) {
    // No upstreamCode on the error itself: the answer must not differ when the upstream said E006.
    super('TOO_MANY_ATTEMPTS', 'Too many login attempts.', { status: 429, retryAfter, cause: options?.cause });
    this.reason = reason;
    this.key = key;
    this.fromUpstream = options?.upstreamCode === 'E006';
  }
}
