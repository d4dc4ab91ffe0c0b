import { IdgateError } from '@idgate/core/adapter';

/** The stable codes of `KycError`: one per row of the GetSessionId error table (Azakaw's documentation); they extend core's codes. */
export type KycErrorCode =
  | 'KYC_INVALID_REQUEST'
  | 'KYC_INVALID_PARAMETERS'
  | 'KYC_INVALID_CREDENTIALS'
  | 'KYC_INVALID_CUSTOMER_DETAILS'
  | 'KYC_CUSTOMER_TYPE_MISMATCH'
  | 'KYC_INVALID_CUSTOMER_TYPE'
  | 'KYC_INVALID_CLIENT_ID'
  | 'KYC_CLIENT_NOT_PERMITTED'
  | 'KYC_UNAUTHORIZED'
  | 'KYC_FORBIDDEN'
  | 'KYC_RATE_LIMITED'
  | 'KYC_UPSTREAM_ERROR';

/**
 * Each code's upstream message (the documentation's quoted message, or the row's
 * description where it quotes none) and the status idgate answers with.
 * Validation problems are 400; credential and permission problems are the
 * server's misconfiguration, so the browser gets 502; rate limits 503 + Retry-After.
 * @example KYC_ERRORS.KYC_INVALID_CUSTOMER_DETAILS // { message: 'Invalid Customer Details', status: 400, upstreamStatus: 400 }
 */
export const KYC_ERRORS: Readonly<Record<KycErrorCode, { message: string; status: number; upstreamStatus: number }>> = Object.freeze({
  KYC_INVALID_PARAMETERS: { message: 'Invalid request parameters', status: 400, upstreamStatus: 400 },
  KYC_INVALID_REQUEST: { message: 'Invalid Request', status: 400, upstreamStatus: 400 },
  KYC_INVALID_CREDENTIALS: { message: 'Invalid AppId or AppSecret', status: 502, upstreamStatus: 400 },
  KYC_INVALID_CUSTOMER_DETAILS: { message: 'Invalid Customer Details', status: 400, upstreamStatus: 400 },
  KYC_CUSTOMER_TYPE_MISMATCH: { message: 'Invalid Customer Type', status: 400, upstreamStatus: 400 },
  KYC_INVALID_CUSTOMER_TYPE: { message: 'Invalid customer type.', status: 400, upstreamStatus: 400 },
  KYC_INVALID_CLIENT_ID: { message: 'Invalid Client Id', status: 400, upstreamStatus: 400 },
  KYC_CLIENT_NOT_PERMITTED: { message: 'Client Id is not permitted for this API key', status: 502, upstreamStatus: 400 },
  KYC_UNAUTHORIZED: { message: 'Invalid credentials', status: 502, upstreamStatus: 401 },
  KYC_FORBIDDEN: { message: 'Unauthorized tenant', status: 502, upstreamStatus: 403 },
  KYC_RATE_LIMITED: { message: 'Too many requests', status: 503, upstreamStatus: 429 },
  KYC_UPSTREAM_ERROR: { message: 'Server error', status: 502, upstreamStatus: 500 },
});

/**
 * A GetSessionId failure: a stable `code`, the HTTP `status` an adapter
 * answers, the documented message, and `retryAfter` (seconds) when rate limited.
 * Never carries the app secret, the request body or the upstream's raw body.
 * @example
 * catch (err) { if (err instanceof KycError && err.code === 'KYC_RATE_LIMITED') retryIn(err.retryAfter); }
 */
export class KycError extends IdgateError<KycErrorCode> {
  /** Seconds after which a retry makes sense (rate limit, unavailable upstream). */
  readonly retryAfter: number | undefined;
  /** The HTTP status the KYC API answered, when it answered. */
  readonly upstreamStatus: number | undefined;
  constructor(code: KycErrorCode, options: { status?: number; retryAfter?: number | undefined; upstreamStatus?: number; cause?: unknown } = {}) {
    const row = KYC_ERRORS[code];
    super(code, row.message, { status: options.status ?? row.status, cause: options.cause });
    this.retryAfter = options.retryAfter;
    this.upstreamStatus = options.upstreamStatus;
  }
}

// Exact, case-sensitive: "Invalid Customer Type" and "Invalid customer type." are two rows.
const BY_MESSAGE = new Map<string, KycErrorCode>(
  (Object.entries(KYC_ERRORS) as [KycErrorCode, { message: string; upstreamStatus: number }][])
    .filter(([, row]) => row.upstreamStatus === 400)
    .map(([code, row]) => [row.message, code]),
);

/**
 * The `KycError` for a 400 answer: the first message of the body's
 * `messages` that is a row of the documented table, else `KYC_INVALID_PARAMETERS`
 * (an ASP.NET validation problem, or a message the documentation does not list).
 * @example errorFor400({ messages: ['Invalid Client Id'] }).code // 'KYC_INVALID_CLIENT_ID'
 */
export function errorFor400(body: unknown): KycError {
  const messages = (body as { messages?: unknown } | null | undefined)?.messages;
  if (Array.isArray(messages)) {
    for (const m of messages) {
      const code = typeof m === 'string' ? BY_MESSAGE.get(m.trim()) : undefined;
      if (code) return new KycError(code, { upstreamStatus: 400 });
    }
  }
  return new KycError('KYC_INVALID_PARAMETERS', { upstreamStatus: 400 });
}
