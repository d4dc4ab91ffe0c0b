// @idgate/kyc end to end: the real client against the real mock over sockets,
// then through every adapter's kycSessionHandler.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createKycClient, KycError, type KycClientOptions, type KycCustomerInput } from '@idgate/kyc';
import {
  KYC_MESSAGES,
  MOCK_KYC_APP_ID,
  MOCK_KYC_APP_SECRET,
  MOCK_KYC_CLIENT_ID,
  MOCK_KYC_FORM_ID,
  MOCK_KYC_RESTRICTED_CLIENT_ID,
  MOCK_KYC_TENANT_ID,
} from '@idgate/mock-upstream';
import { adapters } from './adapters/index.js';
import { captureLogger, optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';
import type { RunningApp } from './adapters/types.js';

const PATH = '/api/AppSessionManager/GetSessionId';
const LIFETIME = 600_000;
const ADA: KycCustomerInput = { customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } };
const ACME: KycCustomerInput = {
  customerType: 'LegalEntity',
  customerEmail: 'office@acme.example',
  company: { fullName: 'Acme Ltd', registrationNumber: '12345', tradingName: 'Acme' },
};

let mock: MockUpstream;
// The client's clock follows the mock's virtual clock, so expiry can be crossed without waiting.
let offset = 0;
const now = () => Date.now() + offset;
function advance(ms: number): void {
  mock.advanceClock(ms);
  offset += ms;
}
const logger = captureLogger();

function kycOptions(extra: Partial<KycClientOptions> = {}): KycClientOptions {
  return {
    baseUrl: mock.url,
    appId: MOCK_KYC_APP_ID,
    appSecret: MOCK_KYC_APP_SECRET,
    tenantId: MOCK_KYC_TENANT_ID,
    formId: MOCK_KYC_FORM_ID,
    logger,
    now,
    ...extra,
    http: { timeout: 1_000, totalTimeout: 4_000, retries: 2, backoffBase: 20, backoffMax: 100, retryAfterMax: 2_000, ...extra.http },
  };
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Everything an error could reveal: messages, stacks and inspections of it and every cause. */
function errorText(err: unknown): string {
  const parts: string[] = [JSON.stringify(err)];
  for (let e = err as { message?: unknown; cause?: unknown; stack?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message), String(e.stack), inspect(e, { depth: 10, showHidden: true }));
  }
  return parts.join('\n');
}

beforeAll(async () => {
  mock = await startMockUpstream({ port: 0, kyc: { sessionLifetimeMs: LIFETIME, rateLimit: 30 } });
});
afterAll(async () => {
  await mock.close();
  // The app secret never reaches a log line, across every case of this file.
  expect(logger.lines.length).toBeGreaterThan(0);
  expect(logger.lines.join('\n')).not.toContain(MOCK_KYC_APP_SECRET);
});
beforeEach(() => {
  mock.reset();
  offset = 0;
});

describe('validation before any call, with the upstream\'s own messages', () => {
  const { individual: _i, ...noDetails } = ADA as KycCustomerInput & { individual: unknown };
  const cases: [string, unknown, string, string][] = [
    ['not an object', null, 'KYC_INVALID_REQUEST', KYC_MESSAGES.invalidRequest],
    ['customerType outside the enum', { ...ADA, customerType: 'Person' }, 'KYC_INVALID_CUSTOMER_TYPE', KYC_MESSAGES.invalidCustomerType],
    ['neither individual nor company', noDetails, 'KYC_INVALID_CUSTOMER_DETAILS', KYC_MESSAGES.invalidCustomerDetails],
    ['both individual and company', { ...ADA, company: (ACME as { company: unknown }).company }, 'KYC_INVALID_CUSTOMER_DETAILS', KYC_MESSAGES.invalidCustomerDetails],
    // Seed 004's rule order (1 one object, 2 type matches, 3 valid value): issue 14's example.
    ['an invalid customerType and neither object', { ...noDetails, customerType: 'Business' }, 'KYC_INVALID_CUSTOMER_DETAILS', KYC_MESSAGES.invalidCustomerDetails],
    ['LegalEntity with individual', { ...ADA, customerType: 'LegalEntity' }, 'KYC_CUSTOMER_TYPE_MISMATCH', KYC_MESSAGES.customerTypeMismatch],
    ['Individual with company', { ...ACME, customerType: 'Individual' }, 'KYC_CUSTOMER_TYPE_MISMATCH', KYC_MESSAGES.customerTypeMismatch],
    ['no e-mail', { ...ADA, customerEmail: undefined }, 'KYC_INVALID_PARAMETERS', KYC_MESSAGES.invalidParameters],
    ['a missing lastName', { ...ADA, individual: { firstName: 'Ada' } }, 'KYC_INVALID_PARAMETERS', KYC_MESSAGES.invalidParameters],
    ['a missing tradingName', { ...ACME, company: { fullName: 'Acme', registrationNumber: '1' } }, 'KYC_INVALID_PARAMETERS', KYC_MESSAGES.invalidParameters],
    ['a non-boolean sendEmail', { ...ADA, sendEmail: 'yes' }, 'KYC_INVALID_PARAMETERS', KYC_MESSAGES.invalidParameters],
  ];

  it.each(cases)('%s: the client refuses it without a call, as the mock would', async (_name, customer, code, message) => {
    const err = await rejection(createKycClient(kycOptions()).getSession(customer as KycCustomerInput));
    expect(err).toBeInstanceOf(KycError);
    expect(err).toMatchObject({ code, message, status: 400 });
    expect(mock.calls().kyc).toBe(0);

    const credentials = { appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID };
    const raw = await fetch(mock.url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(customer === null ? null : { ...credentials, ...(customer as object) }) });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { messages: string[] }).messages).toEqual([message]);
  });
});

describe('each error row of seed 004, end to end', () => {
  const rows: [string, Partial<KycClientOptions>, Partial<KycCustomerInput>, string, number, number, number][] = [
    // name, client options, customer overrides, code, status idgate answers, upstream status, upstream calls
    ['Invalid AppId or AppSecret', { appId: 'not-our-app' }, {}, 'KYC_INVALID_CREDENTIALS', 502, 400, 1],
    // Rule 4 and the table: a wrong secret is the 400 row, like an unknown appId.
    ['Invalid AppId or AppSecret (wrong secret)', { appSecret: 'a-wrong-secret-value' }, {}, 'KYC_INVALID_CREDENTIALS', 502, 400, 1],
    ['403 Unauthorized tenant', { tenantId: 'another-tenant' }, {}, 'KYC_FORBIDDEN', 502, 403, 1],
    ['Invalid request parameters (unknown form)', { formId: 'another-form' }, {}, 'KYC_INVALID_PARAMETERS', 400, 400, 1],
    ['Invalid Client Id', {}, { clientId: '11111111-2222-4333-8444-555555555555' }, 'KYC_INVALID_CLIENT_ID', 400, 400, 1],
    ['Client Id is not permitted for this API key', {}, { clientId: MOCK_KYC_RESTRICTED_CLIENT_ID }, 'KYC_CLIENT_NOT_PERMITTED', 502, 400, 1],
  ];
  it.each(rows)('%s', async (_name, options, customer, code, status, upstreamStatus, calls) => {
    const err = await rejection(createKycClient(kycOptions(options)).getSession({ ...ADA, ...customer } as KycCustomerInput));
    expect(err).toBeInstanceOf(KycError);
    expect(err).toMatchObject({ code, status, upstreamStatus });
    expect(mock.calls().kyc).toBe(calls); // a definitive 400/401/403 is never retried
    expect(errorText(err)).not.toContain(MOCK_KYC_APP_SECRET);
    expect(errorText(err)).not.toContain('a-wrong-secret-value');
  });

  it('401 Invalid credentials (the seed never says when; a fault sends it): KYC_UNAUTHORIZED 502, not retried', async () => {
    mock.fault({ route: 'kyc', status: 401, body: { version: null, statusCode: 401, messages: ['Invalid credentials'], result: null }, times: 1 });
    const err = await rejection(createKycClient(kycOptions()).getSession(ADA));
    expect(err).toMatchObject({ code: 'KYC_UNAUTHORIZED', status: 502, upstreamStatus: 401, message: 'Invalid credentials' });
    expect(mock.calls().kyc).toBe(1);
  });

  it('429 Too many requests: retried while Retry-After fits, then KYC_RATE_LIMITED 503 with its Retry-After', async () => {
    mock.fault({ route: 'kyc', status: 429, body: { statusCode: 429, messages: ['Too many requests'] }, headers: { 'retry-after': '30' } });
    const err = await rejection(createKycClient(kycOptions()).getSession(ADA));
    expect(err).toMatchObject({ code: 'KYC_RATE_LIMITED', status: 503, retryAfter: 30, message: 'Too many requests' });
    expect(mock.calls().kyc).toBe(1); // 30 s is beyond retryAfterMax: give up at once
    expect(errorText(err)).not.toContain(MOCK_KYC_APP_SECRET);
  });

  it('the mock\'s own rate limit gives KYC_RATE_LIMITED', async () => {
    const limited = await startMockUpstream({ port: 0, kyc: { rateLimit: 1, rateLimitWindowMs: 60_000 } });
    try {
      const kyc = createKycClient({ ...kycOptions(), baseUrl: limited.url });
      await kyc.getSession(ADA);
      expect(await rejection(kyc.getSession(ACME))).toMatchObject({ code: 'KYC_RATE_LIMITED', status: 503, retryAfter: 60 });
    } finally {
      await limited.close();
    }
  });

  it('500 Server error: retried with backoff, then KYC_UPSTREAM_ERROR 502', async () => {
    mock.fault({ route: 'kyc', status: 500, body: { statusCode: 500, messages: ['Server error'] } });
    const err = await rejection(createKycClient(kycOptions()).getSession(ADA));
    expect(err).toMatchObject({ code: 'KYC_UPSTREAM_ERROR', status: 502, upstreamStatus: 500 });
    expect(mock.calls().kyc).toBe(3);
    expect(errorText(err)).not.toContain(MOCK_KYC_APP_SECRET);
  });

  it('a malformed success is an UpstreamError, never cached', async () => {
    mock.fault({ route: 'kyc', body: { statusCode: 200, result: { sessionId: 'only-this' } }, times: 1 });
    const kyc = createKycClient(kycOptions());
    expect(await rejection(kyc.getSession(ADA))).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_BAD_RESPONSE' });
    expect((await kyc.getSession(ADA)).sessionId).not.toBe('only-this');
    expect(mock.calls().kyc).toBe(2);
  });

  it('a dropped connection, then a hang: UpstreamError without the secret', async () => {
    mock.fault({ route: 'kyc', drop: true });
    const err = await rejection(createKycClient(kycOptions({ http: { retries: 1, timeout: 200, totalTimeout: 600 } })).getSession(ADA));
    expect(err).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_UNAVAILABLE' });
    expect(errorText(err)).not.toContain(MOCK_KYC_APP_SECRET);
    mock.clearFaults();
    mock.fault({ route: 'kyc', hang: true });
    const hung = await rejection(createKycClient(kycOptions({ http: { retries: 0, timeout: 200, totalTimeout: 600 } })).getSession(ADA));
    expect(hung).toMatchObject({ name: 'UpstreamError', code: 'UPSTREAM_TIMEOUT' });
  });
});

describe('sessions', () => {
  it('answers seed 004\'s fields; customers are unique by e-mail (isNewCustomer once)', async () => {
    const first = await createKycClient(kycOptions()).getSession({ ...ADA, sendEmail: true, employeeId: 'emp-7' });
    expect(first).toEqual({
      sessionId: expect.any(String),
      expiryDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/),
      submissionId: expect.any(String),
      customerId: expect.any(String),
      clientId: MOCK_KYC_CLIENT_ID,
      isNewCustomer: true,
    });
    const second = await createKycClient(kycOptions()).getSession({ ...ADA, customerEmail: 'ADA@example.com' });
    expect(second).toMatchObject({ isNewCustomer: false, customerId: first.customerId, submissionId: first.submissionId });
    expect(mock.requests('kyc')[0]!.body).toMatchObject({ appId: MOCK_KYC_APP_ID, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID, sendEmail: true, employeeId: 'emp-7' });
  });

  it('a second call is served from the cache; after expiryDate minus the skew the upstream is called again', async () => {
    const kyc = createKycClient(kycOptions({ skewMs: 60_000 }));
    const first = await kyc.getSession(ADA);
    expect(await kyc.getSession(ADA)).toBe(first);
    expect(mock.calls().kyc).toBe(1);
    advance(LIFETIME - 60_000 - 1_000);
    expect(await kyc.getSession(ADA)).toBe(first);
    expect(mock.calls().kyc).toBe(1);
    advance(1_000);
    const next = await kyc.getSession(ADA);
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(Date.parse(next.expiryDate)).toBeGreaterThan(now());
    expect(mock.calls().kyc).toBe(2);
  });

  it('caches per customer: another e-mail is another call', async () => {
    const kyc = createKycClient(kycOptions());
    await kyc.getSession(ADA);
    await kyc.getSession(ACME);
    await kyc.getSession(ACME);
    expect(mock.calls().kyc).toBe(2);
  });

  it('fresh: true calls the upstream and replaces the cached session', async () => {
    const kyc = createKycClient(kycOptions());
    const first = await kyc.getSession(ADA);
    const fresh = await kyc.getSession(ADA, { fresh: true });
    expect(fresh.sessionId).not.toBe(first.sessionId);
    expect(await kyc.getSession(ADA)).toBe(fresh);
    expect(mock.calls().kyc).toBe(2);
  });

  it('20 concurrent first calls make one upstream call', async () => {
    mock.fault({ route: 'kyc', latencyMs: 50, times: 1 });
    const kyc = createKycClient(kycOptions());
    const sessions = await Promise.all(Array.from({ length: 20 }, () => kyc.getSession(ADA)));
    expect(new Set(sessions.map((s) => s.sessionId)).size).toBe(1);
    expect(mock.calls().kyc).toBe(1);
  });

  it('backs off on 429, honouring Retry-After, then succeeds', async () => {
    mock.fault({ route: 'kyc', status: 429, body: { statusCode: 429, messages: ['Too many requests'] }, headers: { 'retry-after': '1' }, times: 1 });
    const started = Date.now();
    const session = await createKycClient(kycOptions()).getSession(ADA);
    expect(session.isNewCustomer).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(mock.calls().kyc).toBe(2);
  });

  it('backs off on 500 then succeeds', async () => {
    mock.fault({ route: 'kyc', status: 500, body: { statusCode: 500, messages: ['Server error'] }, times: 2 });
    expect((await createKycClient(kycOptions()).getSession(ADA)).sessionId).toEqual(expect.any(String));
    expect(mock.calls().kyc).toBe(3);
  });

  it('a shared store lets a second instance reuse the session without a call', async () => {
    const map = new Map<string, unknown>();
    const store = { get: async (k: string) => map.get(k), set: async (k: string, v: unknown) => void map.set(k, v) };
    const first = await createKycClient(kycOptions({ store })).getSession(ADA);
    const second = await createKycClient(kycOptions({ store })).getSession(ADA);
    expect(second.sessionId).toBe(first.sessionId);
    expect(mock.calls().kyc).toBe(1);
    expect([...map.keys()].join()).not.toContain('ada');
  });
});

describe.each(adapters)('$name adapter: POST /kyc/session', (adapter) => {
  let app: RunningApp;
  const running: RunningApp[] = [];
  const appLogger = captureLogger();
  // A new client per test: its session cache must not carry over.
  const start = async (extra: Partial<KycClientOptions> = {}) => {
    const started = await adapter.start({ idgate: optionsFor(mock, { logger: appLogger }), kyc: { client: createKycClient(kycOptions(extra)) } });
    running.push(started);
    return started;
  };

  beforeEach(async () => {
    app = await start();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.close()));
  });
  afterAll(() => {
    const all = appLogger.lines.join('\n');
    expect(all).not.toContain(MOCK_KYC_APP_SECRET);
    expect(all).not.toContain('a-wrong-secret-value');
  });

  const post = (target: RunningApp, cookie: string | undefined, body: object = {}) => {
    const req = request(target.url).post('/kyc/session').set('Accept', 'application/json');
    return (cookie ? req.set('Cookie', `identityId=${cookie}`) : req).send(body);
  };

  it('gives the signed-in customer { sessionId, expiryDate }, no-store, named from the identity', async () => {
    const id = await upstreamLogin(mock);
    const res = await post(app, id).expect(200);
    expect(res.body).toEqual({ sessionId: expect.any(String), expiryDate: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.stringify(res.headers) + res.text).not.toContain(MOCK_KYC_APP_SECRET);
    const [sent] = mock.requests('kyc');
    expect(sent!.body).toMatchObject({ customerType: 'Individual', customerEmail: 'demo@example.com', individual: { firstName: 'Demo', lastName: 'Customer' } });
    // The second request is a cache hit.
    const again = await post(app, id).expect(200);
    expect(again.body.sessionId).toBe(res.body.sessionId);
    expect(mock.calls().kyc).toBe(1);
  });

  it('cannot obtain a session for another e-mail or client: the body is ignored but for fresh', async () => {
    const id = await upstreamLogin(mock);
    await post(app, id, { email: 'other@x', customerEmail: 'other@example.com', clientId: MOCK_KYC_RESTRICTED_CLIENT_ID, customerType: 'LegalEntity' }).expect(200);
    const fresh = await post(app, id, { fresh: true, email: 'other@x' }).expect(200);
    const bodies = mock.requests('kyc').map((r) => r.body as Record<string, unknown>);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body.customerEmail).toBe('demo@example.com');
      expect(body).not.toHaveProperty('clientId');
      expect(body.customerType).toBe('Individual');
    }
    expect(fresh.body.sessionId).toEqual(expect.any(String));
  });

  it('without a session: 401 and no upstream call', async () => {
    const res = await post(app, undefined, { email: 'demo@example.com' }).expect(401);
    expect(res.body.error).toBe('UNAUTHENTICATED');
    expect(mock.calls().kyc).toBe(0);
  });

  it('an upstream refusal is a clean JSON error: code, seed message, no stack, no secret', async () => {
    const id = await upstreamLogin(mock);
    const misconfigured = await start({ appSecret: 'a-wrong-secret-value' });
    const res = await post(misconfigured, id).expect(502);
    expect(res.body).toEqual({ error: 'KYC_INVALID_CREDENTIALS', message: 'Invalid AppId or AppSecret' });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toContain(MOCK_KYC_APP_SECRET);
    expect(res.text).not.toContain('a-wrong-secret-value');
  });

  // Issue 13 item 8 and issue 12 item 5. Sessions come from a login through the app.
  const signIn = async (target: RunningApp, email = 'demo@example.com', password = 'demo-password') => {
    const res = await request(target.url).post('/login').send({ email, password }).expect(200);
    const set = res.headers['set-cookie'] as unknown as string[];
    return set.find((c) => c.startsWith('identityId='))!.split(';')[0]!;
  };
  const postWith = (target: RunningApp, cookie: string, body: object = {}) =>
    request(target.url).post('/kyc/session').set('Accept', 'application/json').set('Cookie', cookie).send(body);

  it("KYC fresh limited per identity: one customer's flood of fresh: true does not rate-limit another customer's first request", async () => {
    mock.addCustomer({ email: 'ada@example.com', password: 'ada-password', name: 'Ada Lovelace' });
    const demo = await signIn(app);
    const first = await postWith(app, demo, { fresh: true }).expect(200);
    // The mock allows 30 calls per app per window (beforeAll): 40 fresh calls from one customer.
    for (let i = 0; i < 40; i++) {
      const res = await postWith(app, demo, { fresh: true }).expect(200);
      expect(res.body.sessionId).toBe(first.body.sessionId); // beyond the limit: the cached session
    }
    expect(mock.calls().kyc).toBe(1);
    const ada = await signIn(app, 'ada@example.com', 'ada-password');
    const other = await postWith(app, ada).expect(200);
    expect(other.body.sessionId).not.toBe(first.body.sessionId);
    expect(mock.calls().kyc).toBe(2);
  });

  it('fresh is allowed again after freshInterval, and freshInterval: 0 turns the limit off', async () => {
    const demo = await signIn(app);
    const a = await postWith(app, demo, { fresh: true }).expect(200);
    const b = await postWith(app, demo, { fresh: true }).expect(200);
    expect(b.body.sessionId).toBe(a.body.sessionId);
    advance(30_000);
    const c = await postWith(app, demo, { fresh: true }).expect(200);
    expect(c.body.sessionId).not.toBe(a.body.sessionId);
    const unlimited = await start({ freshInterval: 0 });
    const d = await postWith(unlimited, demo, { fresh: true }).expect(200);
    const e = await postWith(unlimited, demo, { fresh: true }).expect(200);
    expect(e.body.sessionId).not.toBe(d.body.sessionId);
  });

  it('Retry-After capped: an absurd Retry-After from the KYC API reaches the browser as at most 3600', async () => {
    const demo = await signIn(app);
    for (const value of ['99999999999', '9'.repeat(401), 'Fri, 31 Dec 9999 23:59:59 GMT']) {
      mock.fault({ route: 'kyc', status: 429, body: { statusCode: 429, messages: ['Too many requests'] }, headers: { 'retry-after': value }, times: 1 });
      const res = await postWith(app, demo).expect(503);
      expect(res.body).toEqual({ error: 'KYC_RATE_LIMITED', message: 'Too many requests' });
      expect(res.headers['retry-after']).toBe('3600');
    }
  });

  it('a rate-limited upstream answers 503 with Retry-After', async () => {
    const id = await upstreamLogin(mock);
    mock.fault({ route: 'kyc', status: 429, body: { statusCode: 429, messages: ['Too many requests'] }, headers: { 'retry-after': '30' } });
    const res = await post(app, id).expect(503);
    expect(res.body).toEqual({ error: 'KYC_RATE_LIMITED', message: 'Too many requests' });
    expect(res.headers['retry-after']).toBe('30');
  });
});
