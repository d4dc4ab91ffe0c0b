import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO_CUSTOMER, MOCK_API_KEY, startMockUpstream } from './index.js';
import type { MockUpstream } from './index.js';

const LOGIN = '/api/v1/customer/login';
const PROFILE = '/api/v1/contact/profile';

let mock: MockUpstream;
beforeEach(async () => {
  mock ??= await startMockUpstream({ port: 0, host: '127.0.0.1' });
  mock.reset();
});
afterAll(() => mock.close());

function post(path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(mock.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MOCK_API_KEY}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

async function bodyOf(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${mock.url}/__mock/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe('routing', () => {
  it('answers 404 NOT_FOUND for unknown paths and methods, without counting them', async () => {
    for (const [method, path] of [['GET', '/'], ['GET', LOGIN], ['POST', '/api/v1/customer/login/'], ['GET', '/__mock/nope']]) {
      const res = await fetch(mock.url + path!, { method });
      expect(res.status).toBe(404);
      expect(await bodyOf(res)).toEqual({ error: 'NOT_FOUND' });
    }
    expect(mock.calls().total).toBe(0);
  });

  it('answers 413 beyond 64 kB', async () => {
    const res = await post(LOGIN, { ...DEMO_CUSTOMER, padding: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect((await post(LOGIN, { ...DEMO_CUSTOMER, padding: 'x'.repeat(60_000) })).status).toBe(200);
  });
});

describe('counters and request log', () => {
  it('counts every call per route name, faulted ones included, and not the control surface', async () => {
    expect(mock.calls()).toEqual({ login: 0, profile: 0, logout: 0, kyc: 0, chat: 0, contacts: 0, conversations: 0, total: 0 });
    mock.fault({ route: 'profile', status: 500, times: 1 });
    await post(LOGIN, DEMO_CUSTOMER);
    await post(LOGIN, { email: 'x' });
    await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' });
    await control('GET', 'sessions');
    expect(mock.calls()).toEqual({ login: 2, profile: 1, logout: 0, kyc: 0, chat: 0, contacts: 0, conversations: 0, total: 3 });
    expect((await control('GET', 'calls')).json).toEqual({ login: 2, profile: 1, logout: 0, kyc: 0, chat: 0, contacts: 0, conversations: 0, total: 3 });
  });

  it('records requests, newest last, filterable by route and over HTTP', async () => {
    await post(`${LOGIN}?apiKey=${MOCK_API_KEY}`, DEMO_CUSTOMER);
    await post(PROFILE, '{broken');
    expect(mock.requests()).toHaveLength(2);
    expect(mock.requests('login')).toEqual([
      {
        route: 'login',
        method: 'POST',
        path: LOGIN,
        query: { apiKey: MOCK_API_KEY },
        headers: expect.objectContaining({ authorization: `Bearer ${MOCK_API_KEY}` }),
        body: DEMO_CUSTOMER,
      },
    ]);
    expect(mock.requests('profile')[0]?.body).toBe('{broken');
    const { json } = await control('GET', 'requests?route=profile');
    expect(json).toHaveLength(1);
    expect(json[0].route).toBe('profile');
  });

  it('keeps the last 500 requests', async () => {
    for (let i = 0; i < 510; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => post(PROFILE, { apiKey: MOCK_API_KEY, identityId: String(i + j) })));
    const log = mock.requests();
    expect(log).toHaveLength(500);
    expect(mock.calls().profile).toBe(510);
    expect(new Set(log.map((r) => (r.body as { identityId: string }).identityId)).has('509')).toBe(true);
  });

  it('reset({ only: "calls" }) keeps sessions and faults; reset() restores the seeded customers', async () => {
    mock.addCustomer({ email: 'ada@example.com', password: 'pw' });
    await post(LOGIN, DEMO_CUSTOMER);
    mock.fault({ route: 'logout', status: 503 });
    mock.advanceClock(10_000);

    mock.reset({ only: 'calls' });
    expect(mock.calls().total).toBe(0);
    expect(mock.requests()).toEqual([]);
    expect(mock.sessions()).toHaveLength(1);
    expect((await post('/api/v1/contact/logout', { apiKey: MOCK_API_KEY, identityId: 'x' })).status).toBe(503);

    const { json } = await control('POST', 'reset');
    expect(json).toEqual({ ok: true });
    expect(mock.calls().total).toBe(0);
    expect(mock.sessions()).toEqual([]);
    expect((await post('/api/v1/contact/logout', { apiKey: MOCK_API_KEY, identityId: 'x' })).status).toBe(200);
    expect(await bodyOf(post(LOGIN, { email: 'ada@example.com', password: 'pw' }))).toMatchObject({ error: 'E002' });
    expect((await control('POST', 'reset', { only: 'everything' })).status).toBe(400);
  });
});

describe('faults', () => {
  it('answers an injected status and JSON body', async () => {
    mock.fault({ route: 'login', status: 503, body: { error: 'DOWN' }, headers: { 'retry-after': '2' } });
    const res = await post(LOGIN, DEMO_CUSTOMER);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await bodyOf(res)).toEqual({ error: 'DOWN' });
    expect(mock.sessions()).toEqual([]);
  });

  it('sends a string body raw, so it can be malformed JSON', async () => {
    mock.fault({ route: 'profile', body: '{"success": tr' });
    const res = await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.text()).toBe('{"success": tr');
  });

  it('applies `times` and consumes faults in the order added, "*" included', async () => {
    mock.fault([
      { route: 'login', status: 500, times: 2 },
      { route: '*', status: 502, times: 1 },
      { route: 'login', status: 504, times: 1 },
    ]);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(LOGIN, DEMO_CUSTOMER)).status);
    expect(statuses).toEqual([500, 500, 502, 504, 200]);
  });

  it('lasts until cleared without `times`', async () => {
    mock.fault({ route: 'profile', status: 500 });
    for (let i = 0; i < 3; i++) expect((await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' })).status).toBe(500);
    mock.clearFaults();
    expect((await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' })).status).toBe(401);
  });

  it('adds headers alone to the normal answer', async () => {
    mock.fault({ route: 'login', headers: { 'x-upstream': 'mock' } });
    const res = await post(LOGIN, DEMO_CUSTOMER);
    expect(res.headers.get('x-upstream')).toBe('mock');
    expect((await bodyOf(res)).success).toBe(true);
  });

  it('drops the connection', async () => {
    mock.fault({ route: 'login', drop: true, times: 1 });
    await expect(post(LOGIN, DEMO_CUSTOMER)).rejects.toThrow(TypeError);
    expect((await post(LOGIN, DEMO_CUSTOMER)).status).toBe(200);
    expect(mock.calls().login).toBe(2);
  });

  it('hangs until the client gives up', async () => {
    mock.fault({ route: 'profile', hang: true, times: 1 });
    const started = performance.now();
    await expect(post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' }, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' })).status).toBe(401);
  });

  it('delays by latencyMs, then answers normally or answers the fault', async () => {
    mock.fault([
      { route: 'login', latencyMs: 150, times: 1 },
      { route: 'login', latencyMs: 100, status: 500, times: 1 },
    ]);
    let started = performance.now();
    const slow = await post(LOGIN, DEMO_CUSTOMER);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect((await bodyOf(slow)).success).toBe(true);
    started = performance.now();
    expect((await post(LOGIN, DEMO_CUSTOMER)).status).toBe(500);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('trickles a body that never ends', async () => {
    mock.fault({ route: 'profile', trickle: true });
    const res = await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' }, { signal: AbortSignal.timeout(300) });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow(/abort|timeout/i);
  });

  it('sends a huge body of bodyBytes', async () => {
    mock.fault({ route: 'profile', bodyBytes: 3_000_000 });
    const res = await post(PROFILE, { apiKey: MOCK_API_KEY, identityId: 'x' });
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(text.length).toBe(3_000_000);
    expect(/^x+$/.test(text)).toBe(true);
  });

  it('is set and cleared over HTTP, and rejects unknown routes and bad fields', async () => {
    expect(await control('POST', 'faults', [{ route: 'login', status: 418 }])).toEqual({ status: 200, json: { ok: true } });
    expect((await post(LOGIN, DEMO_CUSTOMER)).status).toBe(418);
    expect((await control('DELETE', 'faults')).status).toBe(200);
    expect((await post(LOGIN, DEMO_CUSTOMER)).status).toBe(200);

    const bad = await control('POST', 'faults', { route: 'logn', status: 500 });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/logn/);
    expect(() => mock.fault({ route: 'login', times: 0 })).toThrow(TypeError);
    expect(() => mock.fault({ route: 'login', status: 42 })).toThrow(TypeError);
  });
});

describe('control surface', () => {
  it('adds customers, moves the clock and lists sessions over HTTP', async () => {
    const added = await control('POST', 'customers', { email: 'Grace@Example.com', password: 'pw', name: 'Grace', attributes: { plan: 'free' } });
    expect(added.status).toBe(201);
    expect(added.json).toEqual({ ok: true, id: expect.stringMatching(/^c_/), email: 'grace@example.com' });
    expect((await control('POST', 'customers', { email: 'nope' })).status).toBe(400);

    const { identityId } = await bodyOf(post(LOGIN, { email: 'grace@example.com', password: 'pw' }));
    const sessions = await control('GET', 'sessions');
    expect(sessions.json).toEqual([{ identityId, email: 'grace@example.com', ip: '127.0.0.1', lastSeenAt: expect.any(Number), expired: false }]);

    expect((await control('POST', 'clock', { advanceMs: 31 * 60_000 })).json).toEqual({ ok: true, offsetMs: 31 * 60_000 });
    expect(await bodyOf(post(PROFILE, { apiKey: MOCK_API_KEY, identityId }))).toEqual({ success: false, error: 'SESSION_EXPIRED' });
    expect((await control('POST', 'clock', {})).status).toBe(400);
    expect((await control('POST', 'clock', '{oops')).status).toBe(400);
  });
});

describe('close', () => {
  it('ends promptly with hanging, trickling and keep-alive sockets open', async () => {
    const own = await startMockUpstream();
    own.fault([
      { route: 'profile', hang: true, times: 1 },
      { route: 'profile', trickle: true, times: 1 },
    ]);
    const send = () => fetch(`${own.url}${PROFILE}`, { method: 'POST', body: '{}' });
    const hanging = send().catch((err: unknown) => err);
    const trickling = await send();
    await fetch(`${own.url}/__mock/calls`);
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await hanging).toBeInstanceOf(TypeError);
    await expect(trickling.text()).rejects.toThrow();
  });
});

/** Send raw request bytes over a real socket (so the Host header is exactly what we say) and return status line and body. */
function raw(head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(mock.port, '127.0.0.1', () => socket.end(head));
    let data = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (d) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('control routes answer only a loopback Host (issue 12, finding 8)', () => {
  const get = (path: string, host: string | null, version = '1.1') =>
    raw(`GET ${path} HTTP/${version}\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);

  it.each([
    'attacker.example',
    'attacker.example:4010',
    'localhost.attacker.example',
    'localhost.',
    'sub.localhost',
    '127.0.0.1.attacker.example',
    '127.0.0.1.nip.io:4010',
    '127.0.0.256',
    '127.1',
    '2130706433',
    '0x7f000001',
    '0.0.0.0',
    '128.0.0.1',
    '10.0.0.1',
    '[::1].attacker.example',
    '[::ffff:7f00:1]',
    '[::]',
    'localhost:4010:80',
    'localhost:',
    'attacker.example, localhost',
  ])('Host %j: 403 with no data, on every control route', async (host) => {
    await post(LOGIN, DEMO_CUSTOMER); // the log now holds a password and the Bearer key, and there is a session
    for (const path of ['/__mock/requests', '/__mock/sessions', '/__mock/calls', '/__mock/contacts', '/__mock/chat', '/__mock/nope']) {
      const res = await get(path, host);
      expect(res.status, `${host} ${path}`).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error: 'FORBIDDEN_HOST', message: expect.any(String) });
      expect(res.body).not.toContain(DEMO_CUSTOMER.password);
      expect(res.body).not.toContain(MOCK_API_KEY);
    }
    const reset = await raw(`POST /__mock/reset HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(reset.status).toBe(403);
    expect(mock.sessions()).toHaveLength(1); // nothing was reset
  });

  it('an HTTP/1.0 request without a Host is refused too; HTTP/1.1 without one is a 400 from Node', async () => {
    expect((await get('/__mock/requests', null, '1.0')).status).toBe(403);
    expect((await get('/__mock/requests', null)).status).toBe(400);
  });

  it.each(['localhost', 'LOCALHOST:4010', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:4010'])('Host %j: answered', async (host) => {
    await post(LOGIN, DEMO_CUSTOMER);
    const res = await get('/__mock/requests?route=login', host);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveLength(1);
  });

  it('the emulated APIs still answer any Host (idgate apps call them by whatever name they are configured with)', async () => {
    const res = await raw(`POST ${LOGIN} HTTP/1.1\r\nHost: upstream.example\r\nContent-Type: application/json\r\nAuthorization: Bearer ${MOCK_API_KEY}\r\nContent-Length: ${JSON.stringify(DEMO_CUSTOMER).length}\r\nConnection: close\r\n\r\n${JSON.stringify(DEMO_CUSTOMER)}`);
    expect(res.status).toBe(200);
  });

  it('the CLI listens on 127.0.0.1 unless --host says otherwise', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout!.setEncoding('utf8');
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d: string) => {
          out += d;
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`idgate-mock exited ${code}: ${out}`)));
      });
      expect(line).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      child.kill('SIGTERM');
    }
  });
  it('the CLI sets the statuses the documentation leaves open, and refuses a bad one with the usage line', async () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const bad = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--e006-status', '99'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    expect(await new Promise((resolve) => bad.once('exit', resolve))).toBe(2);
    expect(err).toMatch(/--e006-status must be an HTTP status from 200 to 599/);

    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--session-expired-status=404', '--login-error-status', '401'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout!.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d: string) => {
          out += d;
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`idgate-mock exited ${code}: ${out}`)));
      });
      const call = (path: string, body: object) =>
        fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${MOCK_API_KEY}` }, body: JSON.stringify(body) });
      expect((await call(LOGIN, { email: DEMO_CUSTOMER.email, password: 'wrong' })).status).toBe(401);
      const { identityId } = (await (await call(LOGIN, DEMO_CUSTOMER)).json()) as { identityId: string };
      await call('/__mock/expire', { identityId });
      const expired = await call(PROFILE, { apiKey: MOCK_API_KEY, identityId });
      expect(expired.status).toBe(404);
      expect(await expired.json()).toEqual({ success: false, error: 'SESSION_EXPIRED' });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
