// Hostile input and upstream faults, against every adapter over sockets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { connect } from 'node:net';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { API_KEY, captureLogger, optionsFor, setCookies, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';

const PASSWORD = 'demo-password';
const HTML = 'text/html';

// Every one of these must stay on the app's origin.
const REDIRECT_VARIANTS = [
  '//evil.example', '///evil.example', '/\\evil.example', '\\\\evil.example', '\\/evil.example', 'https://evil.example',
  'https:evil.example', 'http:/evil.example', '//evil.example/%2e%2e', '/%2F%2Fevil.example', '/%2f%2fevil.example',
  '%2F%2Fevil.example', '/%5Cevil.example', '/%5cevil.example', '/%252F%252Fevil.example', '/\t/evil.example',
  '/\r\n/evil.example', '/%09/evil.example', '/%0D%0ALocation:%20https://evil.example', 'javascript:alert(1)',
  'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', '/\uFF0F\uFF0Fevil.example', '/\u2215\u2215evil.example',
  '\u3002evil.example', '/' + 'a'.repeat(5000), ' //evil.example', '/.//evil.example/..', '/%2e%2e//evil.example', '@evil.example',
];

describe.each(adapters)('$name: hostile input', (adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  let allowed: RunningApp;
  const logger = captureLogger();
  const seen: Array<{ headers: Record<string, unknown>; text: string }> = [];
  const record = <T extends { headers: Record<string, unknown>; text: string }>(res: T) => {
    seen.push({ headers: res.headers, text: res.text ?? '' });
    return res;
  };

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    // The returnTo table makes one failed login per variant, all from 127.0.0.1:
    // more than the login limiter's per-IP default (test/throttle.test.ts covers it).
    app = await adapter.start({ idgate: optionsFor(mock, { logger, loginThrottle: { perIp: 1_000 } }) });
    allowed = await adapter.start({ idgate: optionsFor(mock, { logger, allowedOrigins: ['https://shop.example'] }) });
  });
  beforeEach(() => mock.reset());
  afterAll(async () => {
    await app.close();
    await allowed.close();
    // Secrets: nothing identifying ever reached a log line, an error body, or
    // a header other than the Set-Cookie that carries the session itself.
    const logs = logger.lines.join('\n');
    const secrets = [PASSWORD, API_KEY, ...mock.sessions().map((s) => s.identityId)];
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      for (const r of seen) {
        expect(r.text).not.toContain(secret);
        for (const [name, value] of Object.entries(r.headers)) if (name !== 'set-cookie') expect(String(value)).not.toContain(secret);
      }
    }
    await mock.close();
  });

  it.each(REDIRECT_VARIANTS)('returnTo %j never leaves the origin (form login, query and body)', async (returnTo) => {
    const origin = new URL(app.url).origin;
    const viaBody = record(await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD, returnTo }));
    expect(viaBody.status).toBe(303);
    expect(new URL(viaBody.headers.location!, app.url).origin).toBe(origin);
    const viaQuery = record(await request(app.url).post(`/login?returnTo=${encodeURIComponent(returnTo)}`).type('form').send({ email: 'demo@example.com', password: PASSWORD }));
    expect(new URL(viaQuery.headers.location!, app.url).origin).toBe(origin);
    const failed = record(await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: 'wrong', returnTo }));
    expect(new URL(failed.headers.location!, app.url).origin).toBe(origin);
    const back = new URL(failed.headers.location!, app.url).searchParams.get('returnTo');
    if (back !== null) expect(new URL(back, app.url).origin).toBe(origin);
  });

  it('the login redirect for a protected page keeps the original path, encoded, on our origin', async () => {
    const res = record(await request(app.url).get('/account/..%2F%2Fevil.example?x=%0d%0a').set('Accept', HTML));
    if (res.status === 303) {
      const location = new URL(res.headers.location!, app.url);
      expect(location.origin).toBe(new URL(app.url).origin);
      expect(location.pathname).toBe('/login');
      expect(new URL(location.searchParams.get('returnTo')!, app.url).origin).toBe(new URL(app.url).origin);
    } else {
      expect(res.status).toBe(404);
    }
  });

  it.each([
    ['duplicate names, garbage first', (id: string) => `identityId=garbage; identityId=${id}`, 'anonymous'],
    ['duplicate names, valid first', (id: string) => `identityId=${id}; identityId=garbage`, 'authenticated'],
    ['a signed form', (id: string) => `identityId=s:${id}.c2lnbmF0dXJl`, 'anonymous'],
    ['both signed and unsigned', (id: string) => `identityId=s:${id}.sig; identityId=${id}`, 'anonymous'],
    ['an 8 kB header', (id: string) => `pad=${'p'.repeat(8_000)}; identityId=${id}`, 'authenticated'],
    ['injection characters in names', (id: string) => `"identityId"=${id}; identity Id=${id}; identityId[]=${id}; identityId%3D=${id}; ident%69tyId=${id}`, 'anonymous'],
    ['a name prefix', (id: string) => `myidentityId=${id}`, 'anonymous'],
  ] as const)('cookie with %s: no crash, no upstream call for a malformed value', async (_label, make, status) => {
    const id = await upstreamLogin(mock);
    const res = record(await request(app.url).get('/public').set('Cookie', make(id)));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(status);
    expect(mock.calls().profile).toBe(status === 'authenticated' ? 1 : 0);
  });

  it('invalid UTF-8 in the cookie header: answered, no crash, no upstream call', async () => {
    const { port } = new URL(app.url);
    const raw = Buffer.concat([
      Buffer.from('GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: identityId='),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]),
      Buffer.from('AAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\r\n'),
    ]);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(raw));
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 (200|400)/);
    expect(mock.calls().profile).toBe(0);
    await request(app.url).get('/public').expect(200); // and the server is still up
  });

  it('session fixation: a planted identityId is never kept after a form login', async () => {
    const planted = await upstreamLogin(mock); // even a real, valid session of someone else
    const res = record(await request(app.url).post('/login').type('form').set('Cookie', `identityId=${planted}`).send({ email: 'demo@example.com', password: PASSWORD }));
    const issued = setCookies(res).find((c) => c.startsWith('identityId='))!;
    expect(issued).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
    expect(issued).not.toContain(planted);
  });

  it('CSRF: the allow-list admits a configured origin and nothing else; JSON endpoints need JSON', async () => {
    const body = { email: 'demo@example.com', password: PASSWORD };
    record(await request(allowed.url).post('/login').set('Origin', 'https://shop.example').send(body).expect(200));
    record(await request(allowed.url).post('/login').set('Origin', 'https://shop.example.evil').send(body).expect(403));
    record(await request(allowed.url).post('/login').set('Referer', 'https://evil.example/x').type('form').send(body).expect(403));
    record(await request(app.url).post('/login').set('Origin', app.url).type('form').send(body).expect(303));
    record(await request(app.url).post('/login').set('Content-Type', 'text/plain').send(JSON.stringify(body)).expect(415));
    record(await request(app.url).post('/login').set('Content-Type', 'multipart/form-data; boundary=x').send('--x--').expect(415));
    const id = await upstreamLogin(mock);
    record(await request(app.url).post('/logout').set('Cookie', `identityId=${id}`).set('Sec-Fetch-Site', 'cross-site').expect(403));
    record(await request(app.url).post('/logout').set('Cookie', `identityId=${id}`).set('Sec-Fetch-Site', 'same-origin').expect(200));
  });

  it('oversized and hostile bodies are refused cleanly', async () => {
    const huge = record(await request(app.url).post('/login').type('form').send(`email=a%40b.co&password=${'x'.repeat(40_000)}`));
    // A JSON client gets 400/413; a form post is sent back to the login page with an error.
    if (huge.status === 303) expect(huge.headers.location).toMatch(/^\/login\?error=BAD_REQUEST/);
    else expect([400, 413]).toContain(huge.status);
    expect(setCookies(huge)).toEqual([]);
    expect(huge.text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
    const proto = record(await request(app.url).post('/login').set('Content-Type', 'application/json').send('{"__proto__":{"email":"demo@example.com","password":"demo-password"}}'));
    expect(proto.status).toBe(400);
    expect(mock.calls().login).toBe(0);
  });

  it.each([
    ['malformed JSON', { status: 200, body: '{"success":tr' }],
    ['a huge body', { bodyBytes: 3_000_000 }],
    ['a body that never finishes', { trickle: true }],
    ['a connection reset', { drop: true }],
    ['a 429 storm', { status: 429, headers: { 'Retry-After': '1' }, body: {} }],
  ] as const)('upstream answers with %s: protected 503, and every other request keeps being answered', async (_label, fault) => {
    const id = await upstreamLogin(mock);
    mock.fault({ route: 'profile', ...fault });
    const pending = Promise.all(Array.from({ length: 5 }, () => request(app.url).get('/api/me').set('Cookie', `identityId=${id}`)));
    // While verifications struggle, anonymous and public traffic is answered.
    for (let i = 0; i < 10; i++) record(await request(app.url).get('/public').expect(200));
    record(await request(app.url).get('/api/me').expect(401));
    const answers = await pending;
    for (const res of answers) {
      record(res);
      expect(res.status).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(setCookies(res)).toEqual([]);
    }
    mock.clearFaults();
  });
});
