import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_CUSTOMER, LOGIN_ERRORS, MOCK_API_KEY, startMockUpstream } from './index.js';
import type { MockUpstream, MockUpstreamOptions } from './index.js';

const LOGIN = '/api/v1/customer/login';
const PROFILE = '/api/v1/contact/profile';
const LOGOUT = '/api/v1/contact/logout';

const mocks: MockUpstream[] = [];
afterAll(() => Promise.all(mocks.map((m) => m.close())));

async function start(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const mock = await startMockUpstream({ port: 0, host: '127.0.0.1', ...options });
  mocks.push(mock);
  return mock;
}

/** POSTs JSON with the Bearer key unless `auth` says otherwise; a string body is sent raw. */
async function post(mock: MockUpstream, path: string, body: unknown, auth: string | null = MOCK_API_KEY) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  const res = await fetch(mock.url + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

async function login(mock: MockUpstream, email: string = DEMO_CUSTOMER.email, password: string = DEMO_CUSTOMER.password): Promise<string> {
  const { json } = await post(mock, LOGIN, { email, password });
  expect(json.success).toBe(true);
  return json.identityId as string;
}

describe('login', () => {
  let mock: MockUpstream;
  beforeEach(async () => {
    mock ??= await start();
    mock.reset();
  });

  it('answers a 32-alphanumeric identityId and opens a session for the normalized email', async () => {
    const { status, json } = await post(mock, LOGIN, { email: '  Demo@EXAMPLE.com ', password: 'demo-password', customerRealIp: '1.1.1.1' });
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(['success', 'identityId']);
    expect(json.identityId).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(mock.sessions()).toEqual([{ identityId: json.identityId, email: 'demo@example.com', ip: '1.1.1.1', lastSeenAt: expect.any(Number), expired: false }]);
  });

  it('never repeats an identityId and uses the whole alphabet', async () => {
    const ids = await Promise.all(Array.from({ length: 200 }, () => login(mock)));
    expect(new Set(ids).size).toBe(200);
    const chars = new Set(ids.join(''));
    expect(chars.size).toBe(62);
  });

  it.each([
    ['E002', 'nobody@example.com', 'demo-password'],
    ['E003', 'noaccount@example.com', 'demo-password'],
    ['E004', 'demo@example.com', 'wrong'],
    ['E005', 'banned@example.com', 'demo-password'],
    ['E007', 'unverified@example.com', 'demo-password'],
  ] as const)('answers %s with 200 and the documented message', async (code, email, password) => {
    const { status, json } = await post(mock, LOGIN, { email, password });
    expect(status).toBe(200);
    expect(json).toEqual({ success: false, error: code, message: LOGIN_ERRORS[code] });
    expect(mock.sessions()).toEqual([]);
  });

  it('answers E001 for a customer flagged failWith', async () => {
    mock.addCustomer({ email: 'flaky@example.com', password: 'pw', failWith: 'E001' });
    const { json } = await post(mock, LOGIN, { email: 'flaky@example.com', password: 'pw' });
    expect(json).toEqual({ success: false, error: 'E001', message: 'Customer login failed.' });
  });

  it('answers a forced E006 with 429 and Retry-After', async () => {
    mock.addCustomer({ email: 'limited@example.com', password: 'pw', failWith: 'E006' });
    const { status, headers, json } = await post(mock, LOGIN, { email: 'limited@example.com', password: 'pw' });
    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('900');
    expect(json.error).toBe('E006');
  });

  it('checks the password before banned and verified, and the account before the password', async () => {
    expect((await post(mock, LOGIN, { email: 'banned@example.com', password: 'x' })).json.error).toBe('E004');
    expect((await post(mock, LOGIN, { email: 'unverified@example.com', password: 'x' })).json.error).toBe('E004');
    expect((await post(mock, LOGIN, { email: 'noaccount@example.com', password: 'x' })).json.error).toBe('E003');
  });

  it.each([
    ['malformed JSON', '{"email":'],
    ['an array body', [1]],
    ['a missing email', { password: 'demo-password' }],
    ['a numeric password', { email: 'demo@example.com', password: 1 }],
    ['an invalid email', { email: 'not an email', password: 'demo-password' }],
    ['an email without a domain', { email: 'demo@', password: 'demo-password' }],
  ])('answers 400 BAD_REQUEST for %s', async (_, body) => {
    const { status, json } = await post(mock, LOGIN, body);
    expect(status).toBe(400);
    expect(json).toMatchObject({ success: false, error: 'BAD_REQUEST', message: expect.any(String) });
  });

  it.each([
    [undefined, '127.0.0.1'],
    ['', '127.0.0.1'],
    ['::1', '127.0.0.1'],
    ['0.0.0.0', '127.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['203.0.113.9', '203.0.113.9'],
    ['2001:4860:4860::8888', '2001:4860:4860::8888'],
  ])('normalizes customerRealIp %j to %s', async (customerRealIp, ip) => {
    await post(mock, LOGIN, { ...DEMO_CUSTOMER, customerRealIp });
    expect(mock.sessions()[0]?.ip).toBe(ip);
  });

  it.each(['999.1.1.1', 'abc', '[::1]', '1.2.3', 42])('rejects customerRealIp %j with 400', async (customerRealIp) => {
    const { status, json } = await post(mock, LOGIN, { ...DEMO_CUSTOMER, customerRealIp });
    expect(status).toBe(400);
    expect(json.error).toBe('BAD_REQUEST');
    expect(mock.sessions()).toEqual([]);
  });
});

describe('login attempt limit', () => {
  it('answers E006 with 429 and Retry-After once the limit of failures is reached, until the window frees', async () => {
    const mock = await start({ loginAttemptLimit: 3, loginAttemptWindowMs: 60_000, now: () => 5_000_000 });
    for (let i = 0; i < 3; i++) expect((await post(mock, LOGIN, { email: 'demo@example.com', password: 'bad' })).json.error).toBe('E004');
    // Counted per normalized email, and the right password does not get through either.
    const limited = await post(mock, LOGIN, { email: 'DEMO@example.com', password: 'demo-password' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.json).toEqual({ success: false, error: 'E006', message: 'Too many login attempts.' });

    mock.advanceClock(45_000);
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).headers.get('retry-after')).toBe('15');
    mock.advanceClock(15_000);
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).json.success).toBe(true);
    // Other emails were never affected.
    expect((await post(mock, LOGIN, { email: 'banned@example.com', password: 'bad' })).json.error).toBe('E004');
  });

  it('forgets the failures of an email after its successful login', async () => {
    const mock = await start({ loginAttemptLimit: 3 });
    for (let i = 0; i < 2; i++) await post(mock, LOGIN, { email: 'demo@example.com', password: 'bad' });
    await login(mock);
    for (let i = 0; i < 2; i++) expect((await post(mock, LOGIN, { email: 'demo@example.com', password: 'bad' })).json.error).toBe('E004');
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).json.success).toBe(true);
  });

  it('is cleared by reset', async () => {
    const mock = await start({ loginAttemptLimit: 1 });
    await post(mock, LOGIN, { email: 'demo@example.com', password: 'bad' });
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).status).toBe(429);
    mock.reset();
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).json.success).toBe(true);
  });
});

describe('API key', () => {
  const invalid = { success: false, error: 'INVALID_API_KEY', message: 'Invalid API key.' };

  it('login takes it as a Bearer token or the apiKey query parameter (login API), not from the body', async () => {
    const mock = await start();
    expect((await post(mock, LOGIN, DEMO_CUSTOMER)).json.success).toBe(true);
    expect((await post(mock, `${LOGIN}?apiKey=${MOCK_API_KEY}`, DEMO_CUSTOMER, null)).json.success).toBe(true);
    expect(await post(mock, LOGIN, { ...DEMO_CUSTOMER, apiKey: MOCK_API_KEY }, null)).toMatchObject({ status: 401, json: invalid });
    // A key in the body beside a valid Bearer token is ignored, not refused.
    expect((await post(mock, LOGIN, { ...DEMO_CUSTOMER, apiKey: 'nonsense' })).json.success).toBe(true);
  });

  it('profile and logout take it from the body only (identityId guide), whatever the headers and query say', async () => {
    const mock = await start();
    const identityId = await login(mock);
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId }, null)).status).toBe(200);
    expect(await post(mock, PROFILE, { identityId })).toMatchObject({ status: 401, json: invalid });
    expect(await post(mock, `${PROFILE}?apiKey=${MOCK_API_KEY}`, { identityId }, null)).toMatchObject({ status: 401, json: invalid });
    expect(await post(mock, PROFILE, { apiKey: 'nonsense', identityId })).toMatchObject({ status: 401, json: invalid });
    expect(await post(mock, LOGOUT, { identityId })).toMatchObject({ status: 401, json: invalid });
    expect(mock.sessions()).toHaveLength(1);
    expect((await post(mock, LOGOUT, { apiKey: MOCK_API_KEY, identityId }, null)).json).toEqual({ success: true });
  });

  it.each([
    ['missing', undefined],
    ['too short', 'PRODabc'],
    ['of an unknown prefix', 'TEST' + 'a'.repeat(28)],
    ['with a symbol', 'DEV_' + 'a'.repeat(27) + '-'],
    ['not a string', 12345],
  ])('answers 401 INVALID_API_KEY when %s', async (_, key) => {
    const mock = await start();
    const login = await post(mock, LOGIN, DEMO_CUSTOMER, typeof key === 'string' ? key : null);
    expect(login).toMatchObject({ status: 401, json: invalid });
    for (const path of [PROFILE, LOGOUT]) {
      const { status, json } = await post(mock, path, { identityId: 'a'.repeat(32), apiKey: key }, null);
      expect(status).toBe(401);
      expect(json).toEqual(invalid);
    }
  });

  it('must also be listed when the apiKeys option is given', async () => {
    const listed = 'ROOT' + 'b'.repeat(28);
    const mock = await start({ apiKeys: [listed] });
    expect((await post(mock, LOGIN, DEMO_CUSTOMER, listed)).json.success).toBe(true);
    expect((await post(mock, LOGIN, DEMO_CUSTOMER, MOCK_API_KEY)).json).toEqual(invalid);
  });

  it('rejects a malformed key in the apiKeys option at start', async () => {
    await expect(startMockUpstream({ apiKeys: ['nope'] })).rejects.toThrow(/apiKeys/);
  });
});

describe('profile and sessions', () => {
  it('answers the contact and renews the session', async () => {
    let t = 1_000_000;
    const mock = await start({ now: () => t, sessionIdleMs: 1000 });
    const identityId = await login(mock);
    t += 600;
    const { status, json } = await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId }, null);
    expect(status).toBe(200);
    expect(json).toEqual({ success: true, contact: { id: 'c_demo', email: 'demo@example.com', name: 'Demo Customer', plan: 'pro' } });
    expect(mock.sessions()[0]?.lastSeenAt).toBe(1_000_600);
  });

  it('expires after sessionIdleMs of inactivity, and each profile call renews it', async () => {
    // A frozen base clock, so only advanceClock moves time.
    const mock = await start({ sessionIdleMs: 1000, now: () => 5_000_000 });
    const identityId = await login(mock);
    for (let i = 0; i < 3; i++) {
      mock.advanceClock(1000); // exactly the idle time is still alive
      expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).status).toBe(200);
    }
    mock.advanceClock(1001);
    const expired = await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId });
    expect(expired).toMatchObject({ status: 401, json: { success: false, error: 'SESSION_EXPIRED' } });
    expect(mock.sessions()).toMatchObject([{ identityId, expired: true }]);
    // It stays expired rather than vanishing into INVALID_IDENTITY.
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).json.error).toBe('SESSION_EXPIRED');
  });

  it('answers INVALID_IDENTITY for an unknown or malformed identityId, 400 for a missing one', async () => {
    const mock = await start();
    for (const identityId of ['A'.repeat(32), 'short', 'A'.repeat(31) + '!']) {
      expect(await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).toMatchObject({ status: 401, json: { success: false, error: 'INVALID_IDENTITY' } });
    }
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY })).status).toBe(400);
  });

  it('gives a customer without an id a stable contact id and keeps attributes from overriding it', async () => {
    const mock = await start({ customers: [{ email: 'Ada@Example.com', password: 'pw', attributes: { tier: 2, id: 'forged' } }] });
    const contacts = [];
    for (let i = 0; i < 2; i++) {
      const identityId = await login(mock, 'ada@example.com', 'pw');
      contacts.push((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).json.contact);
      mock.reset();
    }
    expect(contacts[0]).toEqual({ id: expect.stringMatching(/^c_[0-9a-f]{16}$/), email: 'ada@example.com', tier: 2 });
    expect(contacts[1]).toEqual(contacts[0]);
  });

  it('expires sessions through the control method and HTTP, by email or identityId', async () => {
    const mock = await start();
    const [a, b] = [await login(mock), await login(mock)];
    expect(mock.expire({ identityId: a })).toBe(1);
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId: a })).json.error).toBe('SESSION_EXPIRED');
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId: b })).status).toBe(200);

    const res = await fetch(`${mock.url}/__mock/expire`, { method: 'POST', body: JSON.stringify({ email: 'DEMO@example.com' }) });
    expect(await res.json()).toEqual({ ok: true, expired: 1 });
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId: b })).json.error).toBe('SESSION_EXPIRED');
    expect(() => mock.expire({} as { email: string })).toThrow(TypeError);
  });

  it('logs out idempotently', async () => {
    const mock = await start();
    const identityId = await login(mock);
    expect(await post(mock, LOGOUT, { apiKey: MOCK_API_KEY, identityId })).toEqual({ status: 200, headers: expect.anything(), json: { success: true } });
    expect(mock.sessions()).toEqual([]);
    expect((await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).json.error).toBe('INVALID_IDENTITY');
    expect((await post(mock, LOGOUT, { apiKey: MOCK_API_KEY, identityId })).json).toEqual({ success: true });
    expect((await post(mock, LOGOUT, { apiKey: MOCK_API_KEY, identityId: 'garbage' })).json).toEqual({ success: true });
  });
});

describe('statuses the documentation leaves open', () => {
  it('answers SESSION_EXPIRED, INVALID_IDENTITY, E00x and E006 with the configured statuses and the documented bodies', async () => {
    const mock = await start({
      statuses: { sessionExpired: 404, invalidIdentity: 403, loginError: 401, tooManyAttempts: 400 },
      loginAttemptLimit: 1,
    });
    const identityId = await login(mock);
    mock.expire({ identityId });
    expect(await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId })).toMatchObject({ status: 404, json: { success: false, error: 'SESSION_EXPIRED' } });
    expect(await post(mock, PROFILE, { apiKey: MOCK_API_KEY, identityId: 'B'.repeat(32) })).toMatchObject({ status: 403, json: { success: false, error: 'INVALID_IDENTITY' } });
    expect(await post(mock, LOGIN, { email: 'demo@example.com', password: 'bad' })).toMatchObject({ status: 401, json: { error: 'E004', message: LOGIN_ERRORS.E004 } });
    const limited = await post(mock, LOGIN, DEMO_CUSTOMER);
    expect(limited).toMatchObject({ status: 400, json: { success: false, error: 'E006', message: LOGIN_ERRORS.E006 } });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it.each([
    [{ sessionExpired: 199 }, /statuses\.sessionExpired/],
    [{ loginError: 600 }, /statuses\.loginError/],
    [{ tooManyAttempts: 4.5 }, /statuses\.tooManyAttempts/],
    [{ expired: 401 }, /statuses\.expired: not one of/],
  ])('refuses %j at start', async (statuses, message) => {
    await expect(startMockUpstream({ statuses: statuses as never })).rejects.toThrow(message);
  });
});
