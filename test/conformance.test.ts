// One table of behaviour, run against every adapter over real sockets and the
// real mock upstream. Each adapter contributes only `start()` (adapters/*.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import request from 'supertest';
import { adapters } from './adapters/index.js';
import { API_KEY, captureLogger, optionsFor, setCookies, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';
import type { AppOptions, RunningApp } from './adapters/types.js';
import type { EndpointSource, IdentityEndpoint } from '@idgate/core';

const HTML = 'text/html,application/xhtml+xml';
const PASSWORD = 'demo-password';

// Stand-ins for @idgate/chat and @idgate/kyc: they answer with what the
// adapter handed them, so the cases below see exactly what crossed the adapter.
const echoEndpoint = (options?: unknown): IdentityEndpoint => ({
  async handle({ identity, body, request }) {
    if (body.stream === true) {
      async function* events() {
        yield 'data: one\n\n';
        yield 'data: two\n\n';
      }
      return { kind: 'stream', statusCode: 200, headers: [['Content-Type', 'text/event-stream']], body: events() };
    }
    return { kind: 'respond', statusCode: 200, body: { userId: identity.id, body, method: request.method, options: options ?? null }, headers: [], setCookies: [] };
  },
});
/** A GET whose request target goes on the wire as written (supertest cannot send absolute-form); the raw response. */
function rawGet(base: string, target: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer to GET ${target}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.end(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}

const chatStub: EndpointSource = { endpoint: () => echoEndpoint() };
const kycStub: EndpointSource<{ formId: string }> = { endpoint: (options) => echoEndpoint(options) };

describe.each(adapters)('$name adapter', (adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  const logger = captureLogger();
  const apps: RunningApp[] = [];
  const start = async (extra: Parameters<typeof optionsFor>[1] = {}, more: Omit<AppOptions, 'idgate'> = {}) => {
    const a = await adapter.start({ idgate: optionsFor(mock, { logger, ...extra }), ...more });
    apps.push(a);
    return a;
  };

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    app = await start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
    // Secrets never reach a log line, across every case of this adapter.
    const all = logger.lines.join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(API_KEY);
    for (const s of mock.sessions()) expect(all).not.toContain(s.identityId);
  });
  beforeEach(() => mock.reset());

  describe('without a cookie', () => {
    it('a public route sees identity null and status anonymous', async () => {
      const res = await request(app.url).get('/public').expect(200);
      expect(res.body).toEqual({ identity: null, status: 'anonymous' });
    });
    it('a protected HTML GET is redirected 303 to the login URL with returnTo, no-store', async () => {
      const res = await request(app.url).get('/account?tab=2').set('Accept', HTML).expect(303);
      expect(res.headers.location).toBe('/login?returnTo=%2Faccount%3Ftab%3D2');
      expect(res.headers['cache-control']).toBe('no-store');
    });
    it('a protected API call gets 401 UNAUTHENTICATED', async () => {
      const res = await request(app.url).get('/api/me').set('Accept', 'application/json').expect(401);
      expect(res.body).toEqual({ error: 'UNAUTHENTICATED' });
    });
    it('Sec-Fetch-Mode: navigate is a navigation whatever the Accept header', async () => {
      const res = await request(app.url).get('/api/me').set('Accept', 'application/json').set('Sec-Fetch-Mode', 'navigate').expect(303);
      expect(res.headers.location).toMatch(/^\/login\?returnTo=/);
    });
    it('Sec-Fetch-Mode: cors is an API call even when it accepts HTML', async () => {
      await request(app.url).get('/account').set('Accept', HTML).set('Sec-Fetch-Mode', 'cors').expect(401);
    });
    it('the protect option covers matching paths; the login page is never protected', async () => {
      await request(app.url).get('/members/area').set('Accept', 'application/json').expect(401);
      await request(app.url).get('/login').set('Accept', HTML).expect(200);
    });
    // Issue 12's protect bypasses (Express: case, trailing slash; Koa: case, trailing slash; Fastify: percent-encoding;
    // all: absolute-form), on routes that rely on `protect` alone: /members/area, and /theme once protect names it.
    it.each(['/MEMBERS/area', '/Members/Area', '/%6Dembers/area', 'http://127.0.0.1:PORT/members/area', '/theme/', '/THEME', '/%74heme', 'http://127.0.0.1:PORT/theme'])(
      'issue 12 protect bypass: %s is refused like the path it routes to',
      async (target) => {
        const guarded = await start({ protect: ['/members/*', '/theme'] });
        const answer = await rawGet(guarded.url, target.replace('PORT', new URL(guarded.url).port));
        expect(answer).toMatch(/^HTTP\/1\.1 401 /);
        expect(answer).toContain('"error":"UNAUTHENTICATED"');
      },
    );
  });

  describe('login', () => {
    it('sets the cookie with HttpOnly, SameSite, Path=/, Max-Age and no Secure on plain-http localhost', async () => {
      const res = await request(app.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const [cookie] = setCookies(res);
      expect(cookie).toMatch(/^identityId=[A-Za-z0-9]{32}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
      expect(res.body.authenticated).toBe(true);
      expect(res.body.identity).toMatchObject({ id: 'c_demo', email: 'demo@example.com' });
      expect(mock.sessions().some((s) => cookie!.includes(s.identityId))).toBe(true);
    });
    it('sets Secure when the host is not localhost', async () => {
      const res = await request(app.url).post('/login').set('Host', 'shop.example.com').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      expect(setCookies(res)[0]).toMatch(/; Secure$/);
    });
    it('never keeps a cookie planted before login', async () => {
      const planted = 'A'.repeat(32);
      const res = await request(app.url).post('/login').set('Cookie', `identityId=${planted}`).send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const [cookie] = setCookies(res);
      expect(cookie).not.toContain(planted);
      expect(cookie).toMatch(/^identityId=[A-Za-z0-9]{32};/);
    });
    it('a form post is redirected 303 to a safe returnTo with the cookie', async () => {
      const res = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD, returnTo: '/account?x=1' }).expect(303);
      expect(res.headers.location).toBe('/account?x=1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(setCookies(res)[0]).toMatch(/^identityId=[A-Za-z0-9]{32};/);
    });
    it.each(['//evil.example', '/\\evil.example', 'https://evil.example', '/%2F%2Fevil.example', '%2F%2Fevil.example', '/ok\r\nSet-Cookie: x=1', '/ok\nx', 'javascript:alert(1)'])(
      'returnTo %j is replaced by /',
      async (returnTo) => {
        const res = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD, returnTo }).expect(303);
        expect(res.headers.location).toBe('/');
      },
    );
    it('unknown e-mail, no account and wrong password give one identical answer', async () => {
      const answers = [];
      for (const [email, password] of [['nobody@example.com', PASSWORD], ['noaccount@example.com', PASSWORD], ['demo@example.com', 'wrong']]) {
        const res = await request(app.url).post('/login').send({ email, password });
        answers.push({ status: res.status, body: res.body, cookie: setCookies(res).length });
      }
      expect(answers[0]).toEqual({ status: 401, body: { error: 'INVALID_CREDENTIALS', message: 'Wrong e-mail or password.' }, cookie: 0 });
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });
    it('banned (403), unverified (403) and too many attempts (429 + Retry-After) stay distinguishable', async () => {
      const banned = await request(app.url).post('/login').send({ email: 'banned@example.com', password: PASSWORD });
      expect([banned.status, banned.body.error]).toEqual([403, 'ACCOUNT_BANNED']);
      const unverified = await request(app.url).post('/login').send({ email: 'unverified@example.com', password: PASSWORD });
      expect([unverified.status, unverified.body.error]).toEqual([403, 'EMAIL_NOT_VERIFIED']);
      let last;
      for (let i = 0; i < 7; i++) last = await request(app.url).post('/login').send({ email: 'demo@example.com', password: 'nope' });
      expect(last!.status).toBe(429);
      expect(last!.body.error).toBe('TOO_MANY_ATTEMPTS');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    });
    it('exposeLoginCodes reveals the upstream code', async () => {
      const exposed = await start({ exposeLoginCodes: true });
      const res = await request(exposed.url).post('/login').send({ email: 'nobody@example.com', password: PASSWORD }).expect(401);
      expect(res.body).toMatchObject({ error: 'UNKNOWN_EMAIL', upstreamCode: 'E002' });
    });
    it('a failed form login redirects back to the login page with a code', async () => {
      const res = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: 'wrong', returnTo: '/account' }).expect(303);
      expect(res.headers.location).toBe('/login?error=INVALID_CREDENTIALS&returnTo=%2Faccount');
      expect(setCookies(res)).toEqual([]);
    });
    it('rejects cross-site posts: Origin, Sec-Fetch-Site, Referer', async () => {
      const body = { email: 'demo@example.com', password: PASSWORD };
      for (const [h, v] of [['Origin', 'https://evil.example'], ['Sec-Fetch-Site', 'cross-site'], ['Referer', 'https://evil.example/page'], ['Origin', 'null']] as const) {
        const res = await request(app.url).post('/login').type('form').set(h, v).send(body).expect(403);
        expect(setCookies(res)).toEqual([]);
        expect(res.body.error).toBe('FORBIDDEN_ORIGIN');
      }
      expect(mock.calls().login ?? 0).toBe(0);
      await request(app.url).post('/login').set('Origin', app.url).send(body).expect(200);
    });
    it('a text/plain post (a CSRF simple request) is refused with 415', async () => {
      await request(app.url).post('/login').set('Content-Type', 'text/plain').send('{"email":"demo@example.com","password":"demo-password"}').expect(415);
      expect(mock.calls().login ?? 0).toBe(0);
    });
    it('customerRealIp comes from the socket; X-Forwarded-For only when the proxy is trusted', async () => {
      await request(app.url).post('/login').set('X-Forwarded-For', '203.0.113.9').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      expect(mock.sessions().at(-1)!.ip).toBe('127.0.0.1');
      const proxied = await start({}, { trustProxy: true });
      await request(proxied.url).post('/login').set('X-Forwarded-For', '203.0.113.9').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      expect(mock.sessions().at(-1)!.ip).toBe('203.0.113.9');
    });
    it('a bad body is a 400, never a crash', async () => {
      await request(app.url).post('/login').set('Content-Type', 'application/json').send('{"email":').expect(400);
      await request(app.url).post('/login').send({ email: 'not-an-email', password: 'x' }).expect(400);
      await request(app.url).post('/login').send({ email: ['a@b.co'], password: {} }).expect(400);
    });
  });

  describe('with a valid cookie', () => {
    it('attaches the profile; the raw identityId is not serialized', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      expect(res.body.identity).toMatchObject({ id: 'c_demo', email: 'demo@example.com', name: 'Demo Customer', attributes: { plan: 'pro' } });
      expect(res.text).not.toContain(id);
    });
    it('authenticated responses carry Cache-Control: private, no-store and Vary: Cookie', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(app.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(res.body.status).toBe('authenticated');
      expect(res.headers['cache-control']).toBe('private, no-store');
      expect(res.headers.vary).toMatch(/\bCookie\b/);
    });
    it('works with the framework cookie parser mounted', async () => {
      const parsed = await start({}, { cookieParser: true });
      const id = await upstreamLogin(mock);
      await request(parsed.url).get('/api/me').set('Cookie', `other=1; identityId=${id}`).expect(200);
    });
    it('requireIdentity({ where }) answers 403 when the predicate fails', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(app.url).get('/admin').set('Cookie', `identityId=${id}`).expect(403);
      expect(res.body).toEqual({ error: 'FORBIDDEN' });
    });
    it('the identityId is read only from the cookie', async () => {
      const id = await upstreamLogin(mock);
      await request(app.url).get(`/api/me?identityId=${id}`).expect(401);
      await request(app.url).get('/api/me').set('X-Identity-Id', id).set('Authorization', `Bearer ${id}`).expect(401);
      await request(app.url).get('/public').set('Cookie', `xidentityId=${id}`).expect(200, { identity: null, status: 'anonymous' });
      expect(mock.calls().profile ?? 0).toBe(0);
    });
    it('100 concurrent cold requests make one upstream call; repeats within the TTL make none', async () => {
      const id = await upstreamLogin(mock);
      const all = await Promise.all(Array.from({ length: 100 }, () => request(app.url).get('/api/me').set('Cookie', `identityId=${id}`)));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(mock.calls().profile).toBe(1);
      for (let i = 0; i < 20; i++) await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      expect(mock.calls().profile).toBe(1);
    });
  });

  describe('malformed cookies', () => {
    it.each([
      ['too short', 'identityId=abc'],
      ['non-alphanumeric', `identityId=${'a'.repeat(31)}!`],
      ['10 kB', `identityId=${'a'.repeat(10_240)}`],
      ['repeated', `identityId=${'Ab1'.repeat(22)}`],
      ['quoted garbage', 'identityId="%00%FF"'],
    ])('%s: anonymous, no upstream call', async (_name, cookie) => {
      const res = await request(app.url).get('/public').set('Cookie', cookie).expect(200);
      expect(res.body.status).toBe('anonymous');
      await request(app.url).get('/api/me').set('Cookie', cookie).expect(401);
      expect(mock.calls().profile ?? 0).toBe(0);
    });
  });

  describe('expired session', () => {
    it('protected HTML GET: 303 with reason=expired and the cookie cleared with matching attributes', async () => {
      const id = await upstreamLogin(mock);
      mock.expire({ identityId: id });
      const res = await request(app.url).get('/account').set('Cookie', `identityId=${id}`).set('Accept', HTML).expect(303);
      expect(res.headers.location).toBe('/login?returnTo=%2Faccount&reason=expired');
      expect(setCookies(res)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
    });
    it('protected API: 401 SESSION_EXPIRED, cookie cleared', async () => {
      const id = await upstreamLogin(mock);
      mock.expire({ email: 'demo@example.com' });
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401);
      expect(res.body).toEqual({ error: 'SESSION_EXPIRED' });
      expect(setCookies(res)[0]).toMatch(/^identityId=; .*Max-Age=0/);
    });
    it('an unknown identityId answers INVALID_IDENTITY', async () => {
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${'Z'.repeat(32)}`).expect(401);
      expect(res.body).toEqual({ error: 'INVALID_IDENTITY' });
    });
    it('a public route continues anonymous (status expired) and clears the cookie', async () => {
      const id = await upstreamLogin(mock);
      mock.expire({ identityId: id });
      const res = await request(app.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(res.body).toEqual({ identity: null, status: 'expired' });
      expect(setCookies(res)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
    });
  });

  describe('upstream faults', () => {
    it('500 then 200: retried and succeeds', async () => {
      const id = await upstreamLogin(mock);
      mock.fault({ route: 'profile', status: 500, body: { error: 'boom' }, times: 1 });
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      expect(mock.calls().profile).toBe(2);
    });
    it('429 with Retry-After: waits, then succeeds', async () => {
      const id = await upstreamLogin(mock);
      mock.fault({ route: 'profile', status: 429, headers: { 'Retry-After': '1' }, body: {}, times: 1 });
      const started = Date.now();
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(mock.calls().profile).toBe(2);
    });
    it('a hanging upstream times out into 503 with Retry-After, not a pass', async () => {
      const id = await upstreamLogin(mock);
      mock.fault({ route: 'profile', hang: true });
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(503);
      expect(res.body).toEqual({ error: 'UPSTREAM_UNAVAILABLE' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      const pub = await request(app.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(pub.body).toEqual({ identity: null, status: 'unavailable' });
      expect(setCookies(pub)).toEqual([]);
    });
    it('a malformed 200 is transient: 503, nothing cleared, nothing negative-cached', async () => {
      const id = await upstreamLogin(mock);
      mock.fault({ route: 'profile', status: 200, body: '<html>oops', times: 1 });
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(503);
      expect(setCookies(res)).toEqual([]);
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    });
  });

  describe('edges every adapter must share', () => {
    it('HEAD is answered like GET: navigation redirect, API 401, private headers when signed in', async () => {
      const nav = await request(app.url).head('/account').set('Accept', HTML).expect(303);
      expect(nav.headers.location).toBe('/login?returnTo=%2Faccount');
      expect(nav.headers['cache-control']).toBe('no-store');
      await request(app.url).head('/api/me').set('Accept', 'application/json').expect(401);
      const id = await upstreamLogin(mock);
      const ok = await request(app.url).head('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      expect(ok.headers['cache-control']).toBe('private, no-store');
      expect(ok.headers.vary).toMatch(/\bCookie\b/);
    });
    it('requireIdentity() where protect already decided: one answer, one Set-Cookie, headers not doubled', async () => {
      const id = await upstreamLogin(mock);
      const ok = await request(app.url).get('/members/required').set('Cookie', `identityId=${id}`).expect(200);
      expect(ok.headers['cache-control']).toBe('private, no-store');
      expect(String(ok.headers.vary).split(',').filter((v) => v.trim() === 'Cookie')).toHaveLength(1);
      const old = await upstreamLogin(mock);
      mock.expire({ identityId: old });
      const expired = await request(app.url).get('/members/required').set('Cookie', `identityId=${old}`).expect(401);
      expect(expired.body).toEqual({ error: 'SESSION_EXPIRED' });
      expect(setCookies(expired)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
      const nav = await request(app.url).get('/members/required').set('Accept', HTML).expect(303);
      expect(nav.headers.location).toBe('/login?returnTo=%2Fmembers%2Frequired');
    });
    it("a cookie the app sets itself survives beside the one idgate clears, with or without the framework's cookie parser", async () => {
      for (const target of [app, await start({}, { cookieParser: true })]) {
        const id = await upstreamLogin(mock);
        mock.expire({ identityId: id });
        const res = await request(target.url).get('/theme').set('Cookie', `identityId=${id}`).expect(200);
        expect(res.body).toEqual({ status: 'expired' });
        const cookies = setCookies(res);
        expect(cookies).toHaveLength(2);
        expect(cookies).toContain('identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
        expect(cookies.filter((c) => /^theme=dark(;|$)/.test(c))).toHaveLength(1);
      }
    });
    it("a protect function that throws goes to the framework's error path, on a cold cookie too", async () => {
      const boom = await start({ protect: (path) => { if (path === '/public') throw new Error('protect failed'); return false; } });
      await request(boom.url).get('/public').expect(500);
      const id = await upstreamLogin(mock);
      await request(boom.url).get('/public').set('Cookie', `identityId=${id}`).expect(500);
      await request(boom.url).get('/public').set('Cookie', `identityId=${id}`).expect(500);
      await request(boom.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    });
    it('login over an expired cookie answers exactly one identityId cookie: the new session', async () => {
      const old = await upstreamLogin(mock);
      mock.expire({ identityId: old });
      const res = await request(app.url).post('/login').set('Cookie', `identityId=${old}`).send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const ours = setCookies(res).filter((c) => c.startsWith('identityId='));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(/^identityId=[A-Za-z0-9]{32}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
      expect(ours[0]).not.toContain(old);
    });
    it('a form login over an expired cookie redirects with only the new session cookie', async () => {
      const old = await upstreamLogin(mock);
      mock.expire({ identityId: old });
      const res = await request(app.url).post('/login').type('form').set('Cookie', `identityId=${old}`).send({ email: 'demo@example.com', password: PASSWORD, returnTo: '/account' }).expect(303);
      expect(res.headers.location).toBe('/account');
      expect(setCookies(res)).toHaveLength(1);
      expect(setCookies(res)[0]).toMatch(/^identityId=[A-Za-z0-9]{32};/);
    });
  });

  describe('identity endpoints (chatProxy, kycSessionHandler)', () => {
    let endpoints: RunningApp;
    beforeAll(async () => {
      endpoints = await start({}, { chat: chatStub, kyc: { client: kycStub, options: { formId: 'form-1' } } });
    });
    it('answer only a signed-in identity, and only it: never a userId from the body', async () => {
      await request(endpoints.url).post('/chat').send({ message: 'hi' }).expect(401);
      const id = await upstreamLogin(mock);
      const res = await request(endpoints.url).post('/chat').set('Cookie', `identityId=${id}`).send({ message: 'hi', userId: 'someone-else' }).expect(200);
      expect(res.body).toEqual({ userId: 'c_demo', body: { message: 'hi', userId: 'someone-else' }, method: 'POST', options: null });
      expect(res.headers['cache-control']).toBe('private, no-store');
    });
    it('kycSessionHandler passes its options to the client', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(endpoints.url).post('/kyc/session').set('Cookie', `identityId=${id}`).send({}).expect(200);
      expect(res.body).toMatchObject({ userId: 'c_demo', options: { formId: 'form-1' } });
    });
    it('refuse cross-site and non-JSON posts', async () => {
      const id = await upstreamLogin(mock);
      const cross = await request(endpoints.url).post('/chat').set('Origin', 'https://evil.example').set('Cookie', `identityId=${id}`).send({ message: 'hi' }).expect(403);
      expect(cross.body.error).toBe('FORBIDDEN_ORIGIN');
      await request(endpoints.url).post('/chat').set('Cookie', `identityId=${id}`).set('Content-Type', 'text/plain').send('{"message":"hi"}').expect(415);
      await request(endpoints.url).post('/chat').set('Cookie', `identityId=${id}`).type('form').send({ message: 'hi' }).expect(415);
    });
    it('stream server-sent events through, with the identity headers', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(endpoints.url).post('/chat').set('Cookie', `identityId=${id}`).send({ stream: true }).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.headers.vary).toMatch(/\bCookie\b/);
      expect(res.text).toBe('data: one\n\ndata: two\n\n');
    });
  });

  describe('logout', () => {
    it('clears the cookie, invalidates the cache and calls upstream logout', async () => {
      const id = await upstreamLogin(mock);
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
      const res = await request(app.url).post('/logout').set('Cookie', `identityId=${id}`).expect(200);
      expect(setCookies(res)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
      expect(mock.calls().logout).toBe(1);
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401);
    });
    it('answers only POST and only same-origin', async () => {
      const id = await upstreamLogin(mock);
      const get = await request(app.url).get('/logout').set('Cookie', `identityId=${id}`);
      expect(get.status).not.toBe(200);
      expect(setCookies(get)).toEqual([]);
      await request(app.url).post('/logout').set('Origin', 'https://evil.example').set('Cookie', `identityId=${id}`).expect(403);
      expect(mock.calls().logout ?? 0).toBe(0);
    });
    it('a form logout redirects to afterLogoutUrl', async () => {
      const id = await upstreamLogin(mock);
      const res = await request(app.url).post('/logout').type('form').set('Cookie', `identityId=${id}`).send({}).expect(303);
      expect(res.headers.location).toBe('/');
    });
    it('a verification in flight during logout never re-caches the old identity', async () => {
      // An upstream without logout keeps the session valid, so only our fence stops it.
      const id = await upstreamLogin(mock);
      mock.fault({ route: 'profile', latencyMs: 300, times: 1 });
      mock.fault({ route: 'logout', status: 404, body: { error: 'NOT_FOUND' } });
      const inflight = request(app.url).get('/public').set('Cookie', `identityId=${id}`);
      const pending = inflight.then((r) => r);
      await new Promise((r) => setTimeout(r, 50));
      await request(app.url).post('/logout').set('Cookie', `identityId=${id}`).expect(200);
      await pending;
      await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401);
    });
  });
});
