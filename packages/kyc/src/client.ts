import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import {
  ConfigError,
  UpstreamError,
  httpPolicySchema,
  redact,
  requestJson,
  silentLogger,
  timeUpstreamCall,
  type EndpointSource,
  type HttpPolicy,
  type IdentityEndpoint,
  type IdgateEvent,
  type Logger,
} from '@idgate/core/adapter';
import { checkCustomer, type KycCustomerFields, type KycCustomerInput } from './customer.js';
import { createKycEndpoint, type KycEndpointOptions } from './endpoint.js';
import { KycError, errorFor400 } from './errors.js';

/**
 * GetSessionId's documented path, relative to `baseUrl`.
 * @example createKycClient({ ...options, path: GET_SESSION_PATH })
 */
export const GET_SESSION_PATH = '/api/AppSessionManager/GetSessionId';

/**
 * A KYC session as GetSessionId answers it (its `result`).
 * @example { sessionId: '75f6…', expiryDate: '2026-02-05T05:47:26.7887865Z', submissionId: '9ded…', customerId: '0824…', clientId: '5b2a…', isNewCustomer: false }
 */
export interface KycSession {
  /** Pass this to the Azakaw SDK to start the KYC flow. */
  readonly sessionId: string;
  /** ISO 8601 (UTC), as the upstream sent it. */
  readonly expiryDate: string;
  readonly submissionId: string;
  readonly customerId: string;
  readonly clientId: string;
  /** True when the call that created this session created the customer; a cached answer repeats it. */
  readonly isNewCustomer: boolean;
}

/**
 * A cache shared between instances, keyed by a keyed hash (never the raw
 * e-mail). `get` may return anything: what it returns is validated, and a
 * failure of either method is treated as a miss.
 * @example
 * const store: KycStore = {
 *   get: async (key) => JSON.parse((await redis.get(key)) ?? 'null') ?? undefined,
 *   set: async (key, value, ttlMs) => void (await redis.set(key, JSON.stringify(value), 'PX', ttlMs)),
 * };
 */
export interface KycStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: KycSession, ttlMs: number): Promise<void>;
}

/**
 * Per-call options of `getSession`.
 * @example await kyc.getSession(customer, { fresh: true, signal: AbortSignal.timeout(5_000) })
 */
export interface GetSessionOptions {
  /** Skip the cache (in-process and store) and replace it with a new upstream session. @default false */
  fresh?: boolean;
  /** Stop waiting (the shared upstream call still completes and is cached for the next caller). */
  signal?: AbortSignal;
}

/**
 * What `createKycClient()` returns: `getSession` for direct use, `endpoint` for the adapters' `kycSessionHandler`.
 * @example const kyc: KycClient = createKycClient(options);
 */
export interface KycClient extends EndpointSource<KycEndpointOptions> {
  /**
   * A session for the customer: validated before any call, then from the
   * cache, a call in flight for the same customer, the store, or the upstream.
   * Throws `KycError` (GetSessionId's documented errors) or `UpstreamError` (timeout, unreachable, malformed answer).
   */
  getSession(customer: KycCustomerInput, options?: GetSessionOptions): Promise<KycSession>;
  /** The `IdentityEndpoint` behind `kycSessionHandler(client, options)`: the e-mail always comes from the verified identity. */
  endpoint(options?: KycEndpointOptions): IdentityEndpoint;
}

const fn = <T>(label: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected a function (${label})` });
// Never `.trim()` a credential: it is sent as given, only checked for content.
const text = z.string('expected a non-empty string').refine((v) => v.trim() !== '', 'expected a non-empty string');

const schema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
    appId: text,
    appSecret: text,
    tenantId: text,
    formId: text,
    path: z.string().regex(/^\/[^\s?#]*$/, 'expected a path starting with /').default(GET_SESSION_PATH),
    skewMs: z.number().int().nonnegative().default(60_000),
    maxEntries: z.number().int().positive().default(10_000),
    freshInterval: z.number().int().nonnegative().default(30_000),
    secret: z.string().min(16, 'expected at least 16 characters').optional(),
    http: httpPolicySchema(65_536),
    store: z
      .custom<KycStore>((v) => typeof (v as KycStore | null)?.get === 'function' && typeof (v as KycStore).set === 'function', {
        message: 'expected an object with get(key) and set(key, value, ttlMs)',
      })
      .optional(),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null, { message: 'expected a pino-compatible logger' }).optional(),
    fetch: fn<typeof fetch>('fetch').optional(),
    now: fn<() => number>('now').optional(),
    onEvent: fn<(event: IdgateEvent) => void>('onEvent').optional(),
  })
  .strict();

/**
 * Options of `createKycClient()`; validated once, a bad one throws
 * `ConfigError` naming the field (never echoing a value).
 * @example { baseUrl: 'https://auth.example.com', appId, appSecret, tenantId, formId, skewMs: 120_000, store }
 */
export interface KycClientOptions {
  /** Base URL of the KYC auth API (`{auth_base_url}` in Azakaw's GetSessionId documentation). */
  baseUrl: string;
  appId: string;
  /** Sent in the request body only; never logged, never in an error, never a property of the client. */
  appSecret: string;
  tenantId: string;
  formId: string;
  /** Path of GetSessionId. @default '/api/AppSessionManager/GetSessionId' */
  path?: string;
  /** A cached session is used until `expiryDate - skewMs`, then replaced. @default 60000 */
  skewMs?: number;
  /** Sessions kept in memory (least recently used go first). @default 10000 */
  maxEntries?: number;
  /**
   * At most one `fresh: true` per customer (tenant, form, e-mail) within this
   * many ms; a `fresh` call inside the interval is served like a plain one
   * (the cached session), so one customer cannot spend the tenant's rate limit.
   * 0 turns the limit off. @default 30000
   */
  freshInterval?: number;
  /** HMAC key for cache keys (≥ 16 chars). @default a key derived from `appSecret`, so instances with the same app share keys */
  secret?: string;
  /** Timeouts and retries. @default 3 s per attempt, 8 s total, 2 retries on 429/5xx/network, backoff 100 ms–2 s, Retry-After ≤ 5 s, 64 KiB body cap */
  http?: Partial<HttpPolicy>;
  /** A cache shared between instances. @default none */
  store?: KycStore;
  /** pino-compatible. @default silent */
  logger?: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** The clock `expiryDate` is compared with. @default Date.now */
  now?: () => number;
  /**
   * Told about every GetSessionId call (an `upstream-call` event, operation
   * `kyc`), for metrics and traces (@idgate/telemetry). The same listener as
   * idgate's `onEvent` fits. @default none
   */
  onEvent?: (event: IdgateEvent) => void;
}

const sessionSchema = z.object({
  sessionId: z.string().min(1),
  expiryDate: z.iso.datetime({ offset: true }),
  submissionId: z.string().min(1),
  customerId: z.string().min(1),
  clientId: z.string().min(1),
  isNewCustomer: z.boolean(),
});
const okSchema = z.object({ result: sessionSchema });

interface Entry {
  readonly session: KycSession;
  /** Epoch ms (client clock) after which the entry is never handed out. */
  readonly freshUntil: number;
}

interface Flight {
  readonly fresh: boolean;
  promise: Promise<KycSession>;
}

function configError(error: z.ZodError, options: unknown): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.join('.') || '(options)';
  // zod omits the input from issues; look the value up to tell "missing" from "wrong".
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], options);
  // No `cause`: the ZodError is of no use to the reader and its input would hold appSecret.
  if (issue.code === 'invalid_type' && value === undefined) return new ConfigError(`@idgate/kyc: option \`${field}\` is required`);
  return new ConfigError(`@idgate/kyc: option \`${field}\` ${issue.message}`);
}

const aborted = () => new UpstreamError('UPSTREAM_UNAVAILABLE', 'kyc: aborted by the caller');

/** Wait for `promise` unless `signal` aborts first; the promise itself runs on. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}

/**
 * Create the KYC session client (Azakaw `POST /api/AppSessionManager/GetSessionId`). Sessions are
 * cached per tenant, form and customer e-mail until `expiryDate - skewMs`;
 * concurrent calls for one customer share one upstream call; 429 and 5xx are
 * retried with jittered backoff honouring Retry-After.
 * @example
 * const kyc = createKycClient({ baseUrl: 'https://auth.example.com', appId, appSecret, tenantId, formId });
 * const { sessionId } = await kyc.getSession({ customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } });
 * @example
 * app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
 */
export function createKycClient(options: KycClientOptions): KycClient {
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw configError(parsed.error, options);
  // Everything below lives in this closure: the client object has no property
  // that JSON.stringify or util.inspect could reveal.
  const { appId, appSecret, tenantId, formId, skewMs, http: policy, store } = parsed.data;
  const url = parsed.data.baseUrl.replace(/\/+$/, '') + parsed.data.path;
  const logger = parsed.data.logger ?? silentLogger;
  const onEvent = parsed.data.onEvent;
  const now = parsed.data.now ?? Date.now;
  const baseFetch = parsed.data.fetch ?? fetch;
  const hashKey = parsed.data.secret ?? createHmac('sha256', appSecret).update('@idgate/kyc cache key').digest();
  const cache = new LRUCache<string, Entry>({ max: parsed.data.maxEntries });
  // When each customer last got a `fresh` call through, on the `now` clock.
  const freshInterval = parsed.data.freshInterval;
  const lastFresh = new LRUCache<string, number>({ max: parsed.data.maxEntries });
  const inflight = new Map<string, Flight>();

  // Tenant and form are in the hash: a shared store may serve several of each.
  const keyOf = (email: string) => `kyc:${createHmac('sha256', hashKey).update(`${tenantId}\n${formId}\n${email}`).digest('base64url')}`;
  const log = (level: 'debug' | 'warn', obj: object, msg: string) => logger[level](redact(obj) as object, msg);

  async function call(customer: KycCustomerFields): Promise<KycSession> {
    // requestJson reports a 429/5xx it gave up on without the status; the last
    // status seen tells the rate limit from the server error.
    let lastStatus: number | undefined;
    const observed: typeof fetch = async (input, init) => {
      lastStatus = undefined;
      const res = await baseFetch(input, init);
      lastStatus = res.status;
      return res;
    };
    let res;
    try {
      res = await requestJson(url, policy, {
        label: 'kyc',
        fetch: observed,
        // Azakaw's documentation puts the credentials in the body, beside the customer.
        body: { appId, appSecret, tenantId, formId, ...customer },
      });
    } catch (err) {
      const retryAfter = err instanceof UpstreamError ? err.retryAfter : undefined;
      if (lastStatus === 429) throw new KycError('KYC_RATE_LIMITED', { retryAfter, upstreamStatus: 429, cause: err });
      if (lastStatus !== undefined && lastStatus >= 500) {
        throw new KycError('KYC_UPSTREAM_ERROR', { status: lastStatus === 503 ? 503 : 502, retryAfter, upstreamStatus: lastStatus, cause: err });
      }
      throw err;
    }
    // Some deployments answer HTTP 200 with the failure in the envelope's statusCode.
    const envelope = (res.body as { statusCode?: unknown } | undefined)?.statusCode;
    const status = res.status < 300 && typeof envelope === 'number' && envelope >= 300 ? envelope : res.status;
    if (status === 400) throw errorFor400(res.body);
    if (status === 401) throw new KycError('KYC_UNAUTHORIZED', { upstreamStatus: 401 });
    if (status === 403) throw new KycError('KYC_FORBIDDEN', { upstreamStatus: 403 });
    if (status === 429) throw new KycError('KYC_RATE_LIMITED', { upstreamStatus: 429 });
    if (status >= 500) throw new KycError('KYC_UPSTREAM_ERROR', { upstreamStatus: status });
    const ok = okSchema.safeParse(res.body);
    if (status >= 300 || !ok.success) {
      throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `kyc: upstream answered ${status} with an unexpected body`, { status: 502 });
    }
    if (Date.parse(ok.data.result.expiryDate) <= now()) {
      throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'kyc: upstream answered a session that has already expired', { status: 502 });
    }
    return Object.freeze(ok.data.result);
  }

  async function fromStore(key: string): Promise<Entry | undefined> {
    if (!store) return undefined;
    try {
      const stored = sessionSchema.safeParse(await store.get(key));
      if (!stored.success) return undefined;
      const freshUntil = Date.parse(stored.data.expiryDate) - skewMs;
      return freshUntil > now() ? { session: Object.freeze(stored.data), freshUntil } : undefined;
    } catch (err) {
      log('warn', { event: 'kyc-store-error', operation: 'get', key, error: err }, 'kyc: store get failed; calling the upstream');
      return undefined;
    }
  }

  async function run(key: string, customer: KycCustomerFields, flight: Flight): Promise<KycSession> {
    try {
      const shared = flight.fresh ? undefined : await fromStore(key);
      if (shared) {
        if (inflight.get(key) === flight) cache.set(key, shared);
        log('debug', { event: 'kyc-session', key, source: 'store' }, 'kyc: session from the shared store');
        return shared.session;
      }
      const session = await timeUpstreamCall(onEvent, 'kyc', () => call(customer));
      const freshUntil = Date.parse(session.expiryDate) - skewMs;
      const ttl = freshUntil - now();
      // A flight overtaken by a `fresh` one must not overwrite the newer session;
      // a session inside its skew window is handed out once, never cached.
      if (inflight.get(key) === flight && ttl > 0) {
        cache.set(key, { session, freshUntil });
        store?.set(key, session, ttl).catch((err: unknown) => {
          log('warn', { event: 'kyc-store-error', operation: 'set', key, error: err }, 'kyc: store set failed');
        });
      }
      log('debug', { event: 'kyc-session', key, source: 'upstream', isNewCustomer: session.isNewCustomer }, 'kyc: new session');
      return session;
    } catch (err) {
      const e = err as { code?: unknown; status?: unknown; message?: unknown };
      log('warn', { event: 'kyc-error', key, code: e.code, status: e.status }, `kyc: ${String(e.message)}`);
      throw err;
    } finally {
      if (inflight.get(key) === flight) inflight.delete(key);
    }
  }

  const client: KycClient = {
    async getSession(customer, opts = {}) {
      const fields = checkCustomer(customer);
      if (opts.signal?.aborted) throw aborted();
      const key = keyOf(fields.customerEmail);
      let fresh = opts.fresh === true;
      if (fresh && freshInterval > 0) {
        const t = now();
        const last = lastFresh.get(key);
        // Issue 13: `fresh` is limited per customer; beyond the limit the caller gets the cached session.
        if (last !== undefined && t - last >= 0 && t - last < freshInterval) {
          fresh = false;
          log('debug', { event: 'kyc-fresh-limited', key }, 'kyc: fresh limited for this customer; serving the cached session');
        } else lastFresh.set(key, t);
      }
      if (!fresh) {
        const hit = cache.get(key);
        if (hit && hit.freshUntil > now()) return hit.session;
        if (hit) cache.delete(key);
      }
      let flight = inflight.get(key);
      // A `fresh` caller may share only a call that is itself fresh.
      if (!flight || (fresh && !flight.fresh)) {
        const started = { fresh } as Flight;
        inflight.set(key, started);
        started.promise = run(key, fields, started);
        flight = started;
      }
      return opts.signal ? abortable(flight.promise, opts.signal) : flight.promise;
    },
    endpoint(endpointOptions) {
      return createKycEndpoint(client, endpointOptions);
    },
  };
  return Object.freeze(client);
}
