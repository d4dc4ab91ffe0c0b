import { z } from 'zod';
import { utf8 } from './body.js';
import { UpstreamError } from './errors.js';

/**
 * The zod schema of an `HttpPolicy` with idgate's defaults (timeout 3 s, total
 * 8 s, 2 retries, backoff 100 ms–2 s, Retry-After ≤ 5 s), shared by every client.
 * @example z.object({ http: httpPolicySchema(65_536) })
 */
export function httpPolicySchema(maxBodyBytes: number) {
  return z
    .object({
      timeout: z.number().int().positive().default(3_000),
      totalTimeout: z.number().int().positive().default(8_000),
      retries: z.number().int().min(0).max(10).default(2),
      backoffBase: z.number().int().nonnegative().default(100),
      backoffMax: z.number().int().nonnegative().default(2_000),
      retryAfterMax: z.number().int().nonnegative().default(5_000),
      maxBodyBytes: z.number().int().positive().default(maxBodyBytes),
    })
    .strict()
    .prefault({});
}

/** How a call to an upstream is bounded and retried. Every figure is in ms except counts and bytes. */
export interface HttpPolicy {
  /** Per-attempt timeout, headers and body included. */
  timeout: number;
  /** Deadline for the whole call, retries and waits included. */
  totalTimeout: number;
  /** Extra attempts after the first, on 429, 5xx, network errors and timeouts only. */
  retries: number;
  backoffBase: number;
  backoffMax: number;
  /** Longest Retry-After we wait; a longer one gives up at once and reports it. */
  retryAfterMax: number;
  /** Responses larger than this are refused without being read further. */
  maxBodyBytes: number;
}

/** A parsed upstream answer. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Per-call knobs of `requestJson`. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** A response that is an answer even with a 429/5xx status (e.g. a login E006). Default: none. */
  isAnswer?: (res: JsonResponse) => boolean;
  /** Whether a network-level failure may be retried (login retries only refused connections). */
  retryNetworkError?: (err: unknown) => boolean;
  /** Whether a 429/5xx status may be retried. Default: all. */
  retryStatus?: (status: number) => boolean;
  /** Label used in error messages, never the URL's query (it may hold a key). */
  label: string;
  /** Clock for the total deadline; tests may pass a fake one. */
  now?: () => number;
}

/** The largest number of seconds `parseRetryAfter` returns (about 31 years): always finite. */
export const RETRY_AFTER_PARSE_MAX = 1e9;

/**
 * Seconds from a Retry-After header (delta-seconds or HTTP date), or
 * undefined when absent, negative or unreadable. Always a finite integer
 * from 0 to 1e9: a 400-digit value or a date in year 9999 gives 1e9, never
 * Infinity or NaN. This is the upstream's raw wish, used to decide whether to
 * wait; what a client is told goes through `clientRetryAfter`.
 * @example parseRetryAfter('120') // 120
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  // Leading zeros are harmless; more than 10 significant digits is past the cap anyway.
  if (/^\d+$/.test(trimmed)) return trimmed.replace(/^0+(?=\d)/, '').length > 10 ? RETRY_AFTER_PARSE_MAX : Math.min(Number(trimmed), RETRY_AFTER_PARSE_MAX);
  if (/^[-+]/.test(trimmed) || /^[\d.eE+-]+$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (!Number.isFinite(at) || !Number.isFinite(now)) return undefined;
  const seconds = Math.ceil((at - now) / 1000);
  return seconds >= 0 ? Math.min(seconds, RETRY_AFTER_PARSE_MAX) : undefined;
}

/**
 * The Retry-After value idgate sends a client: an integer number of seconds
 * in [1, cap], whatever the upstream (or anything else) suggested. `seconds`
 * undefined, NaN, infinite, zero or negative gives `fallback` (itself clamped).
 * Every client-facing Retry-After goes through here: the gate's 503, the
 * login flow's 429/503, chat and KYC endpoints (`runEndpoint`), and so the
 * breaker's fail-fast wait too.
 * @param cap the `retryAfterCap` option. @default 3600
 * @param fallback the `retryAfter` option. @default 5
 * @example clientRetryAfter(99999999999, 3600) // 3600
 */
export function clientRetryAfter(seconds: number | undefined, cap = 3600, fallback = 5): number {
  const top = Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : 1;
  const pick = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && v > 0 ? Math.min(top, Math.max(1, Math.ceil(v))) : undefined);
  return pick(seconds) ?? pick(fallback) ?? 1;
}

/** Exponential backoff with equal jitter: half fixed, half random, capped. */
export function backoffDelay(policy: Pick<HttpPolicy, 'backoffBase' | 'backoffMax'>, attempt: number): number {
  const ceiling = Math.min(policy.backoffMax, policy.backoffBase * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Read a fetch response body as text, refusing (and no longer reading) one
 * past `max` bytes with `UpstreamError('UPSTREAM_BAD_RESPONSE')`.
 * @example const text = await readCappedBody(res, 65_536, 'chat');
 */
export async function readCappedBody(res: Response, max: number, label: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: response larger than ${max} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: response larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return utf8(chunks, size);
}

/** Wait `ms`, or less when `signal` aborts; never rejects. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const isAbort = (err: unknown) => err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');

/**
 * POST/GET JSON to an upstream within a policy: per-attempt timeout, total
 * deadline, byte cap, retries with jittered backoff on 429/5xx/network errors
 * honouring Retry-After. A definitive answer (any other status) is returned,
 * never retried. Failures are `UpstreamError`s.
 * @example
 * const res = await requestJson(`${base}/api/v1/contact/profile`, policy, { body: { identityId }, label: 'profile' });
 */
export async function requestJson(url: string, policy: HttpPolicy, options: RequestOptions): Promise<JsonResponse> {
  const now = options.now ?? Date.now;
  const deadline = now() + policy.totalTimeout;
  const { label } = options;
  let lastError: UpstreamError | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    const remaining = deadline - now();
    if (remaining <= 0) break;
    const outcome = await attemptOnce(url, policy, options, Math.min(policy.timeout, remaining));
    if ('response' in outcome) return outcome.response;
    lastError = outcome.error;
    if (!outcome.retry || attempt === policy.retries) throw lastError;
    const waitMs = outcome.retryAfter !== undefined ? outcome.retryAfter * 1000 : backoffDelay(policy, attempt);
    if (now() + waitMs >= deadline) throw lastError;
    await sleep(waitMs, options.signal);
    if (options.signal?.aborted) throw new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: aborted by the caller`);
  }
  throw lastError ?? new UpstreamError('UPSTREAM_TIMEOUT', `${label}: no answer within ${policy.totalTimeout} ms`);
}

type Attempt = { response: JsonResponse } | { error: UpstreamError; retry: boolean; retryAfter?: number | undefined };

async function attemptOnce(url: string, policy: HttpPolicy, options: RequestOptions, timeoutMs: number): Promise<Attempt> {
  const { label } = options;
  // A timer cleared once the answer is read, not AbortSignal.timeout: that
  // one fires after every call, answered or not, and each firing leaves an
  // abort event and a TimeoutError in the runtime's weak tables, whose
  // capacity stays (about 80 bytes of heap per call at the peak rate).
  const timer = new AbortController();
  const clock = setTimeout(() => timer.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  clock.unref?.();
  const signal = options.signal ? AbortSignal.any([timer.signal, options.signal]) : timer.signal;
  let status: number;
  let headers: Headers;
  let text: string;
  try {
    const res = await (options.fetch ?? fetch)(url, {
      method: options.method ?? 'POST',
      headers: { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal,
      redirect: 'error',
    });
    status = res.status;
    headers = res.headers;
    text = await readCappedBody(res, policy.maxBodyBytes, label);
  } catch (err) {
    // An oversized body is not retried: the same upstream will likely say the same thing.
    if (err instanceof UpstreamError) return { error: err, retry: false };
    if (options.signal?.aborted) return { error: new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: aborted by the caller`, { cause: err }), retry: false };
    const error = isAbort(err)
      ? new UpstreamError('UPSTREAM_TIMEOUT', `${label}: upstream did not answer within ${timeoutMs} ms`, { cause: err })
      : new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: upstream unreachable`, { cause: err });
    return { error, retry: options.retryNetworkError ? options.retryNetworkError(err) : true };
  } finally {
    clearTimeout(clock);
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch (cause) {
    const transient = status === 429 || status >= 500 || status < 400;
    // An HTML error page from a proxy in front of a failing upstream is still a 5xx worth retrying,
    // and an unreadable 2xx is an outage; a 4xx with any body is a definitive answer: not retried,
    // not an outage (the circuit breaker ignores it).
    const error = new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: upstream answered ${status} with a body that is not JSON`, {
      cause,
      outage: transient,
      upstreamStatus: status,
      ...(transient ? {} : { status: 502 }),
    });
    const retry = (status === 429 || status >= 500) && (options.retryStatus ? options.retryStatus(status) : true);
    return { error, retry };
  }
  const response: JsonResponse = { status, headers, body };
  if (!(status === 429 || status >= 500) || options.isAnswer?.(response)) return { response };
  const retryAfter = parseRetryAfter(headers.get('retry-after'));
  const error = new UpstreamError('UPSTREAM_UNAVAILABLE', `${label}: upstream answered ${status}`, { upstreamStatus: status, ...(retryAfter === undefined ? {} : { retryAfter }) });
  const tooLong = retryAfter !== undefined && retryAfter * 1000 > policy.retryAfterMax;
  return { error, retry: !tooLong && (options.retryStatus ? options.retryStatus(status) : true), retryAfter };
}
