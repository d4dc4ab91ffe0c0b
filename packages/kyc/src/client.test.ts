import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, UpstreamError, type Logger } from '@idgate/core';
import { createKycClient, type KycClientOptions, type KycStore } from './client.js';
import { KycError } from './errors.js';
import type { KycCustomerInput } from './customer.js';

const SECRET = 'sEcReT-app-secret-value-42';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const ADA: KycCustomerInput = { customerType: 'Individual', customerEmail: 'Ada@Example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } };

const result = (over: Record<string, unknown> = {}) => ({
  sessionId: 'sess-1',
  expiryDate: '2026-01-01T01:00:00.0000000Z',
  submissionId: 'sub-1',
  customerId: 'cus-1',
  clientId: 'cli-1',
  isNewCustomer: true,
  ...over,
});
const ok = (over: Record<string, unknown> = {}) => json(200, { version: null, statusCode: 200, messages: ['Processed successfully'], result: result(over) });
function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A fetch that answers from a queue (the last answer repeats) and records every call. */
function stub(...answers: (() => Response | Promise<Response>)[]) {
  const calls: { url: string; init: RequestInit; body: any }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init, body: JSON.parse(String(init.body)) });
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    return answer();
  }) as unknown as typeof fetch;
  return { fetch: f, calls };
}

function client(fetchImpl: typeof fetch, extra: Partial<KycClientOptions> = {}) {
  return createKycClient({
    baseUrl: 'https://kyc.example/',
    appId: 'app-1',
    appSecret: SECRET,
    tenantId: 'tenant-1',
    formId: 'form-1',
    fetch: fetchImpl,
    now: () => T0,
    http: { retries: 2, backoffBase: 1, backoffMax: 5 },
    ...extra,
  });
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: unknown; cause?: unknown; stack?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message), String(e.stack), inspect(e, { depth: 10 }));
  }
  return parts.join('\n');
}

describe('createKycClient options', () => {
  const base = { baseUrl: 'https://kyc.example', appId: 'a', appSecret: SECRET, tenantId: 't', formId: 'f' };
  it.each<[string, unknown, string]>([
    ['no options', undefined, '@idgate/kyc: option `(options)` is required'],
    ['no appSecret', { ...base, appSecret: undefined }, 'option `appSecret` is required'],
    ['a blank appSecret', { ...base, appSecret: '   ' }, 'option `appSecret` expected a non-empty string'],
    ['a numeric tenantId', { ...base, tenantId: 7 }, 'option `tenantId` expected a non-empty string'],
    ['a bad baseUrl', { ...base, baseUrl: 'ftp://x' }, 'option `baseUrl` expected an http(s) URL'],
    ['a negative skew', { ...base, skewMs: -1 }, 'option `skewMs`'],
    ['a short secret', { ...base, secret: 'short' }, 'option `secret` expected at least 16 characters'],
    ['a store without set', { ...base, store: { get: async () => undefined } }, 'option `store` expected an object with get(key) and set(key, value, ttlMs)'],
    ['an unknown http knob', { ...base, http: { retry: 1 } }, 'option `http`'],
    ['an unknown option', { ...base, appKey: 'x' }, 'option `(options)`'],
  ])('%s', (_name, options, message) => {
    const err = (() => {
      try {
        createKycClient(options as KycClientOptions);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain(message);
    expect(errorText(err)).not.toContain(SECRET);
  });

  it('keeps appSecret out of JSON.stringify and util.inspect of the client', () => {
    const kyc = client(stub(ok).fetch);
    expect(JSON.stringify(kyc)).not.toContain(SECRET);
    expect(inspect(kyc, { showHidden: true, depth: Infinity, getters: true })).not.toContain(SECRET);
    expect(inspect(kyc.endpoint(), { showHidden: true, depth: Infinity })).not.toContain(SECRET);
    expect(Object.isFrozen(kyc)).toBe(true);
  });
});

describe('getSession', () => {
  it('posts the GetSessionId documentation\'s body: credentials and customer in JSON, nothing secret in the URL or headers', async () => {
    const s = stub(ok);
    const session = await client(s.fetch).getSession({ ...ADA, sendEmail: true, employeeId: null });
    expect(session).toEqual(result());
    expect(s.calls).toHaveLength(1);
    const [call] = s.calls;
    expect(call!.url).toBe('https://kyc.example/api/AppSessionManager/GetSessionId');
    expect(call!.init.method).toBe('POST');
    expect(call!.body).toEqual({
      appId: 'app-1',
      appSecret: SECRET,
      tenantId: 'tenant-1',
      formId: 'form-1',
      customerType: 'Individual',
      customerEmail: 'ada@example.com',
      sendEmail: true,
      individual: { firstName: 'Ada', lastName: 'Lovelace' },
    });
    expect(JSON.stringify(call!.init.headers)).not.toContain(SECRET);
  });

  it('caches per customer e-mail until expiryDate minus the skew, then calls again', async () => {
    let now = T0;
    const s = stub(ok, () => ok({ sessionId: 'sess-2', expiryDate: '2026-01-01T02:00:00Z', isNewCustomer: false }));
    const kyc = client(s.fetch, { now: () => now, skewMs: 60_000 });
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-1');
    expect((await kyc.getSession({ ...ADA, customerEmail: ' ADA@example.COM' })).sessionId).toBe('sess-1');
    now = T0 + 3_600_000 - 60_001;
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-1');
    now = T0 + 3_600_000 - 60_000;
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-2');
    expect(s.calls).toHaveLength(2);
  });

  it('hands out a session inside the skew window once, without caching it; refuses an already expired one', async () => {
    const s = stub(() => ok({ expiryDate: '2026-01-01T00:00:30Z' }), () => ok({ expiryDate: '2025-12-31T23:59:59Z' }));
    const kyc = client(s.fetch);
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-1');
    const err = await rejection(kyc.getSession(ADA));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', status: 502 });
    expect(s.calls).toHaveLength(2);
  });

  it.each<[string, unknown]>([
    ['no result', { statusCode: 200, messages: ['Processed successfully'] }],
    ['the first GetSessionId documentation\'s result (sessionId only)', { result: { sessionId: 's' } }],
    ['a non-ISO expiryDate', { result: result({ expiryDate: 'tomorrow' }) }],
    ['a string isNewCustomer', { result: result({ isNewCustomer: 'false' }) }],
  ])('a malformed answer (%s) is an UpstreamError and is never cached', async (_name, body) => {
    const s = stub(() => json(200, body), ok);
    const kyc = client(s.fetch);
    expect(await rejection(kyc.getSession(ADA))).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_BAD_RESPONSE', status: 502 });
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-1');
    expect(s.calls).toHaveLength(2);
  });

  it.each<[string, Response, string, number]>([
    ['400 with a seed message', json(400, { statusCode: 400, messages: ['Invalid Client Id'] }), 'KYC_INVALID_CLIENT_ID', 400],
    ['400 with an unknown message', json(400, { title: 'One or more validation errors occurred.' }), 'KYC_INVALID_PARAMETERS', 400],
    ['200 whose envelope says 400', json(200, { statusCode: 400, messages: ['Invalid AppId or AppSecret'], result: null }), 'KYC_INVALID_CREDENTIALS', 502],
    ['200 whose envelope says 403', json(200, { statusCode: 403, messages: ['Unauthorized tenant'], result: null }), 'KYC_FORBIDDEN', 502],
    ['401', json(401, {}), 'KYC_UNAUTHORIZED', 502],
  ])('maps %s without retrying', async (_name, response, code, status) => {
    const s = stub(() => response.clone());
    const err = await rejection(client(s.fetch).getSession(ADA));
    expect(err).toBeInstanceOf(KycError);
    expect(err).toMatchObject({ code, status });
    expect(s.calls).toHaveLength(1);
  });

  it('maps an unexpected status to a 502 UpstreamError', async () => {
    const err = await rejection(client(stub(() => json(404, { error: 'NOT_FOUND' })).fetch).getSession(ADA));
    expect(err).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_BAD_RESPONSE', status: 502 });
  });

  it('retries 503 then succeeds; after the last retry a 503 is KYC_UPSTREAM_ERROR 503 with Retry-After', async () => {
    const s = stub(() => json(503, {}), ok);
    expect((await client(s.fetch).getSession(ADA)).sessionId).toBe('sess-1');
    expect(s.calls).toHaveLength(2);
    const failing = stub(() => json(503, {}, { 'retry-after': '0' }));
    const err = await rejection(client(failing.fetch).getSession(ADA));
    expect(err).toMatchObject({ code: 'KYC_UPSTREAM_ERROR', status: 503, upstreamStatus: 503, retryAfter: 0 });
    expect(failing.calls).toHaveLength(3);
  });

  it('a network failure stays an UpstreamError (503)', async () => {
    const f = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    expect(await rejection(client(f).getSession(ADA))).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE', status: 503 });
  });

  it('an aborted caller stops waiting; the shared call still completes and is cached', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = stub(async () => (await gate, ok()));
    const kyc = client(s.fetch);
    const controller = new AbortController();
    const waiting = kyc.getSession(ADA, { signal: controller.signal });
    const other = kyc.getSession(ADA);
    controller.abort();
    expect(await rejection(waiting)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: 'kyc: aborted by the caller' });
    release();
    expect((await other).sessionId).toBe('sess-1');
    expect((await kyc.getSession(ADA)).sessionId).toBe('sess-1');
    expect(s.calls).toHaveLength(1);
    expect(await rejection(kyc.getSession(ADA, { signal: AbortSignal.abort() }))).toMatchObject({ message: 'kyc: aborted by the caller' });
  });

  it('fresh: true replaces the cache; concurrent fresh calls share one call; a fresh call never joins a plain one', async () => {
    let n = 0;
    const s = stub(() => ok({ sessionId: `sess-${++n}` }));
    const kyc = client(s.fetch);
    const plain = kyc.getSession(ADA);
    const [f1, f2] = await Promise.all([kyc.getSession(ADA, { fresh: true }), kyc.getSession(ADA, { fresh: true })]);
    expect(f2.sessionId).toBe(f1.sessionId);
    expect((await plain).sessionId).not.toBe(f1.sessionId);
    // The overtaken plain call, whichever finished last, did not overwrite the fresher session.
    expect((await kyc.getSession(ADA)).sessionId).toBe(f1.sessionId);
    expect(s.calls).toHaveLength(2);
  });
});

describe('store', () => {
  function mapStore() {
    const map = new Map<string, { value: unknown; ttl: number }>();
    const store: KycStore & { map: typeof map } = {
      map,
      get: async (key) => map.get(key)?.value,
      set: async (key, value, ttl) => void map.set(key, { value: JSON.parse(JSON.stringify(value)), ttl }),
    };
    return store;
  }

  it('shares sessions between instances under a keyed hash that holds neither the e-mail nor the secret', async () => {
    const store = mapStore();
    const a = stub(ok);
    const b = stub(() => ok({ sessionId: 'other' }));
    await client(a.fetch, { store }).getSession(ADA);
    expect((await client(b.fetch, { store }).getSession(ADA)).sessionId).toBe('sess-1');
    expect(b.calls).toHaveLength(0);
    const [key, entry] = [...store.map][0]!;
    expect(key).toMatch(/^kyc:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toMatch(/ada|example/i);
    expect(JSON.stringify(entry)).not.toContain(SECRET);
    expect(entry!.ttl).toBe(3_600_000 - 60_000);
    // A different `secret` (or app secret) gives different keys.
    await client(stub(ok).fetch, { store, secret: 'another-secret-of-16+' }).getSession(ADA);
    expect(store.map.size).toBe(2);
  });

  it('ignores a corrupt, expired or failing store and calls the upstream; fresh skips the store', async () => {
    const logs: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (o, m) => logs.push(JSON.stringify({ ...o, m })) };
    const store = mapStore();
    const s = stub(ok);
    await client(s.fetch, { store }).getSession(ADA);
    const key = [...store.map.keys()][0]!;
    store.map.set(key, { value: { sessionId: 'x' }, ttl: 1 });
    await client(s.fetch, { store }).getSession(ADA);
    store.map.set(key, { value: result({ expiryDate: '2026-01-01T00:00:30Z' }), ttl: 1 });
    await client(s.fetch, { store }).getSession(ADA);
    const broken: KycStore = { get: async () => Promise.reject(new Error('redis down')), set: async () => Promise.reject(new Error('redis down')) };
    await client(s.fetch, { store: broken, logger }).getSession(ADA);
    await client(s.fetch, { store }).getSession(ADA, { fresh: true });
    expect(s.calls).toHaveLength(5);
    expect(logs.join('\n')).toContain('redis down');
    expect(logs.join('\n')).not.toContain(SECRET);
  });
});
