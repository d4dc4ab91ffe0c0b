// One table of behaviour, run against every adapter over real sockets and the
// real mock upstream. Each adapter contributes only `start()` (adapters/*.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import request from 'supertest';
import { adapters } from './adapters/index.js';
import { randomId, API_KEY, TEST_SECRET, captureLogger, optionsFor, telemetryCapture, setCookies, startMockUpstream, upstreamLogin, rawOf, type MockUpstream } from './harness.js';
import { sessionKeys, signSession } from '@idgate/core/adapter';
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
  const telemetry = telemetryCapture();
  const apps: RunningApp[] = [];
  const start = async (extra: Parameters<typeof optionsFor>[1] = {}, more: Omit<AppOptions, 'idgate'> = {}) => {
    const a = await adapter.start({ idgate: optionsFor(mock, { logger, onEvent: telemetry.onEvent, ...extra }), ...more });
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
    // Nor a metric label or a span attribute (@idgate/telemetry), across every case.
    expect(telemetry.spans()).toBeGreaterThan(50);
    const seen = await telemetry.output();
    for (const secret of [PASSWORD, API_KEY, TEST_SECRET, 'demo@example.com', ...mock.sessions().map((s) => s.identityId)]) expect(seen).not.toContain(secret);
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
      expect(cookie).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
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
      expect(cookie).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
    });
    it('a form post is redirected 303 to a safe returnTo with the cookie', async () => {
      const res = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD, returnTo: '/account?x=1' }).expect(303);
      expect(res.headers.location).toBe('/account?x=1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(setCookies(res)[0]).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
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
    it('banned (403) and unverified (403) stay distinguishable; too many attempts is one 429 (+ Retry-After) for every e-mail', async () => {
      const banned = await request(app.url).post('/login').send({ email: 'banned@example.com', password: PASSWORD });
      expect([banned.status, banned.body.error]).toEqual([403, 'ACCOUNT_BANNED']);
      const unverified = await request(app.url).post('/login').send({ email: 'unverified@example.com', password: PASSWORD });
      expect([unverified.status, unverified.body.error]).toEqual([403, 'EMAIL_NOT_VERIFIED']);
      // Its own app: the lockout it builds must not reach the other cases.
      const fresh = await start();
      const last: request.Response[] = [];
      for (const email of ['demo@example.com', `nobody-${Date.now()}@example.com`]) {
        let res: request.Response | undefined;
        for (let i = 0; i < 7; i++) res = await request(fresh.url).post('/login').send({ email, password: 'nope' });
        last.push(res!);
      }
      expect(last[0]!.status).toBe(429);
      expect(last[0]!.body.error).toBe('TOO_MANY_ATTEMPTS');
      expect(Number(last[0]!.headers['retry-after'])).toBeGreaterThan(0);
      expect([last[1]!.status, last[1]!.body]).toEqual([last[0]!.status, last[0]!.body]);
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
      mock.expire({ identityId: rawOf(id) });
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
    it('an unknown identityId in a cookie idgate signed answers INVALID_IDENTITY', async () => {
      const signed = signSession(sessionKeys([TEST_SECRET]), 'Z'.repeat(32), Date.now());
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${signed}`).expect(401);
      expect(res.body).toEqual({ error: 'INVALID_IDENTITY' });
      const nav = await request(app.url).get('/account').set('Cookie', `identityId=${signed}`).set('Accept', HTML).expect(303);
      expect(nav.headers.location).toBe('/login?returnTo=%2Faccount&reason=invalid');
    });
    it('a public route continues anonymous (status expired) and clears the cookie', async () => {
      const id = await upstreamLogin(mock);
      mock.expire({ identityId: rawOf(id) });
      const res = await request(app.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(res.body).toEqual({ identity: null, status: 'expired' });
      expect(setCookies(res)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
    });
  });

  describe('signed session cookie (issue 13: strangers cost nothing, lifetime in the cookie)', () => {
    const keys = sessionKeys([TEST_SECRET]);
    it('strangers amplify into upstream calls: a well-formed but unsigned id is anonymous with 0 upstream calls', async () => {
      // A live upstream session, presented bare: before signing, this was verified (and accepted).
      const live = rawOf(await upstreamLogin(mock));
      for (let i = 0; i < 20; i++) {
        const res = await request(app.url).get('/public').set('Cookie', `identityId=${i === 0 ? live : randomId()}`).expect(200);
        expect(res.body.status).toBe('anonymous');
        expect(res.headers.vary).toMatch(/\bCookie\b/);
      }
      await request(app.url).get('/api/me').set('Cookie', `identityId=${live}`).expect(401, { error: 'UNAUTHENTICATED' });
      for (let i = 0; i < 20; i++) await request(app.url).post('/logout').set('Cookie', `identityId=${randomId()}`).expect(200);
      expect(mock.calls().profile ?? 0).toBe(0);
      expect(mock.calls().logout ?? 0).toBe(0);
    });
    it('a tampered tag, a changed issued-at or another secret is anonymous with 0 upstream calls', async () => {
      const good = await upstreamLogin(mock);
      const [id, stamp, tag] = good.split('.') as [string, string, string];
      const flipped = tag.slice(0, -1) + (tag.endsWith('A') ? 'B' : 'A');
      const older = (parseInt(stamp, 36) + 86_400).toString(36);
      const foreign = signSession(sessionKeys(['some-other-secret-0123456789']), id, Date.now());
      for (const value of [`${id}.${stamp}.${flipped}`, `${id}.${older}.${tag}`, foreign, `${id}.${stamp}`, `${id}..${tag}`]) {
        await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(401, { error: 'UNAUTHENTICATED' });
      }
      expect(mock.calls().profile ?? 0).toBe(0);
      await request(app.url).get('/api/me').set('Cookie', `identityId=${good}`).expect(200);
    });
    it('a rotated secret: cookies signed with a previous secret are still accepted, new ones use the first', async () => {
      const rotated = await start({ secret: ['the-new-secret-0123456789abcdef', TEST_SECRET] });
      const old = await upstreamLogin(mock);
      await request(rotated.url).get('/api/me').set('Cookie', `identityId=${old}`).expect(200);
      const res = await request(rotated.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const fresh = setCookies(res)[0]!.split(';')[0]!;
      await request(rotated.url).get('/api/me').set('Cookie', fresh).expect(200);
      await request(app.url).get('/api/me').set('Cookie', fresh).expect(401);
    });
    it('absoluteLifetime restarts on eviction or restart: the lifetime travels in the cookie', async () => {
      const id = rawOf(await upstreamLogin(mock));
      // Issued 31 days ago: any instance, cold or warm, refuses it without asking the upstream.
      const ancient = signSession(keys, id, Date.now() - 31 * 86_400_000);
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${ancient}`).expect(401);
      expect(res.body).toEqual({ error: 'SESSION_EXPIRED' });
      expect(setCookies(res)[0]).toMatch(/^identityId=; .*Max-Age=0/);
      expect(mock.calls().profile ?? 0).toBe(0);
      // A short lifetime, with a tiny cache evicting the session between requests.
      const short = await start({ cookie: { absoluteLifetime: 2 }, cache: { max: 1 } });
      const login = await request(short.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const cookie = setCookies(login)[0]!.split(';')[0]!;
      expect(setCookies(login)[0]).toMatch(/Max-Age=2;/);
      await request(short.url).get('/api/me').set('Cookie', cookie).expect(200);
      const other = await upstreamLogin(mock);
      await request(short.url).get('/api/me').set('Cookie', `identityId=${other}`); // evicts the first session
      await new Promise((r) => setTimeout(r, 2_100));
      await request(short.url).get('/api/me').set('Cookie', cookie).expect(401, { error: 'SESSION_EXPIRED' });
      // A restarted instance (a new app, same secret) agrees.
      const restarted = await start({ cookie: { absoluteLifetime: 2 } });
      await request(restarted.url).get('/api/me').set('Cookie', cookie).expect(401, { error: 'SESSION_EXPIRED' });
    });
    it('a legacy unsigned cookie is accepted only inside acceptUnsignedUntil, and answered with a signed one', async () => {
      const live = rawOf(await upstreamLogin(mock));
      const migrating = await start({ cookie: { acceptUnsignedUntil: new Date(Date.now() + 60_000) } });
      const res = await request(migrating.url).get('/api/me').set('Cookie', `identityId=${live}`).expect(200);
      const upgraded = setCookies(res)[0]!;
      expect(upgraded).toMatch(new RegExp(`^identityId=${live}\\.[0-9a-z]+\\.[\\w-]{22}; `));
      expect(res.headers['cache-control']).toMatch(/no-store/);
      await request(migrating.url).get('/api/me').set('Cookie', upgraded.split(';')[0]!).expect(200);
      const closed = await start({ cookie: { acceptUnsignedUntil: new Date(Date.now() - 1_000) } });
      await request(closed.url).get('/api/me').set('Cookie', `identityId=${live}`).expect(401, { error: 'UNAUTHENTICATED' });
    });
  });

  describe('caching (issue 12: cookie-clearing responses are cacheable)', () => {
    it('a public page that clears an ended session cookie is no-store and Vary: Cookie', async () => {
      const id = await upstreamLogin(mock);
      mock.expire({ identityId: rawOf(id) });
      const res = await request(app.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(setCookies(res)[0]).toMatch(/^identityId=; .*Max-Age=0/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.vary).toMatch(/\bCookie\b/);
    });
    it('an unknown cookie on a public page: Vary: Cookie; a renewal sets no-store even with noStore: false', async () => {
      const res = await request(app.url).get('/public').set('Cookie', 'identityId=whatever').expect(200);
      expect(res.headers.vary).toMatch(/\bCookie\b/);
      const open = await start({ noStore: false, cookie: { renewInterval: 1 } });
      const id = await upstreamLogin(mock);
      await request(open.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      await new Promise((r) => setTimeout(r, 1_100));
      const renewed = await request(open.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      expect(setCookies(renewed)[0]).toMatch(/^identityId=[^;]+; Path=\/; Max-Age=\d+/);
      expect(renewed.headers['cache-control']).toBe('no-store');
      expect(renewed.headers.vary).toMatch(/\bCookie\b/);
    });
    it('a 401 or a login redirect for a request with a cookie is no-store and Vary: Cookie', async () => {
      const res = await request(app.url).get('/account').set('Cookie', 'identityId=whatever').set('Accept', HTML).expect(303);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.vary).toMatch(/\bCookie\b/);
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
      mock.expire({ identityId: rawOf(old) });
      const expired = await request(app.url).get('/members/required').set('Cookie', `identityId=${old}`).expect(401);
      expect(expired.body).toEqual({ error: 'SESSION_EXPIRED' });
      expect(setCookies(expired)).toEqual(['identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
      const nav = await request(app.url).get('/members/required').set('Accept', HTML).expect(303);
      expect(nav.headers.location).toBe('/login?returnTo=%2Fmembers%2Frequired');
    });
    it("a cookie the app sets itself survives beside the one idgate clears, with or without the framework's cookie parser", async () => {
      for (const target of [app, await start({}, { cookieParser: true })]) {
        const id = await upstreamLogin(mock);
        mock.expire({ identityId: rawOf(id) });
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
      // A cold cookie the upstream refuses: decided after an await, protect consulted, the throw reaches the error path.
      const dead = signSession(sessionKeys([TEST_SECRET]), 'Q'.repeat(32), Date.now());
      await request(boom.url).get('/public').set('Cookie', `identityId=${dead}`).expect(500);
      await request(boom.url).get('/public').set('Cookie', `identityId=${dead}`).expect(500);
      // A signed-in request needs no protect match (the hit path skips it).
      const id = await upstreamLogin(mock);
      await request(boom.url).get('/public').set('Cookie', `identityId=${id}`).expect(200);
      await request(boom.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    });
    it('login over an expired cookie answers exactly one identityId cookie: the new session', async () => {
      const old = await upstreamLogin(mock);
      mock.expire({ identityId: rawOf(old) });
      const res = await request(app.url).post('/login').set('Cookie', `identityId=${old}`).send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
      const ours = setCookies(res).filter((c) => c.startsWith('identityId='));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
      expect(ours[0]).not.toContain(old);
    });
    it('a form login over an expired cookie redirects with only the new session cookie', async () => {
      const old = await upstreamLogin(mock);
      mock.expire({ identityId: rawOf(old) });
      const res = await request(app.url).post('/login').type('form').set('Cookie', `identityId=${old}`).send({ email: 'demo@example.com', password: PASSWORD, returnTo: '/account' }).expect(303);
      expect(res.headers.location).toBe('/account');
      expect(setCookies(res)).toHaveLength(1);
      expect(setCookies(res)[0]).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
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

  // Issue 12 and 13: limits, Retry-After, e-mail and the breaker, identical on every adapter.
  // A signed-in session always comes from a login through the app (the cookie is about to be signed).
  const signIn = async (target: RunningApp): Promise<string> => {
    const res = await request(target.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(200);
    return setCookies(res).find((c) => c.startsWith('identityId='))!.split(';')[0]!;
  };
  const TOO_LARGE = (limit: number) => ({ error: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${limit} bytes.` });

  describe('body limits (issue 12 item 4: same body limits everywhere)', () => {
    let endpoints: RunningApp;
    beforeAll(async () => {
      endpoints = await start({}, { chat: chatStub, kyc: { client: kycStub, options: { formId: 'form-1' } } });
    });
    it('a 20 kB login or logout (JSON or form) is 413 PAYLOAD_TOO_LARGE with the same body, before any upstream call', async () => {
      const big = 'x'.repeat(20 * 1024);
      const json = await request(app.url).post('/login').send({ email: 'demo@example.com', password: big }).expect(413);
      expect(json.body).toEqual(TOO_LARGE(16_384));
      expect(json.headers['cache-control']).toBe('no-store');
      expect(json.text).not.toMatch(/at .*\.(ts|js):\d+/);
      const form = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: big }).expect(413);
      expect(form.body).toEqual(TOO_LARGE(16_384));
      const out = await request(app.url).post('/logout').send({ pad: big }).expect(413);
      expect(out.body).toEqual(TOO_LARGE(16_384));
      expect(setCookies(json)).toEqual([]);
      expect(mock.calls().login ?? 0).toBe(0);
    });
    it('a login body just under 16 kB is read: the upstream answers it', async () => {
      const body = { email: 'demo@example.com', password: '' };
      body.password = 'x'.repeat(16_384 - 10 - JSON.stringify(body).length);
      const res = await request(app.url).post('/login').send(body).expect(401);
      expect(res.body.error).toBe('INVALID_CREDENTIALS');
      const ok = await request(app.url).post('/logout').send({ pad: 'x'.repeat(16_000) }).expect(200);
      expect(ok.body).toEqual({ loggedOut: true });
    });
    it('a 70 kB chat or KYC post is 413 PAYLOAD_TOO_LARGE with the same body; just under 64 kB is accepted', async () => {
      const cookie = await signIn(endpoints);
      for (const path of ['/chat', '/kyc/session']) {
        const res = await request(endpoints.url).post(path).set('Cookie', cookie).send({ message: 'x'.repeat(70 * 1024) }).expect(413);
        expect(res.body).toEqual(TOO_LARGE(65_536));
        expect(res.headers['cache-control']).toBe('no-store');
        const message = 'x'.repeat(65_536 - 100);
        const ok = await request(endpoints.url).post(path).set('Cookie', cookie).send({ message }).expect(200);
        expect(ok.body.body.message).toHaveLength(message.length);
      }
    });
    it('the limits are options of the core config', async () => {
      const small = await start({ bodyLimit: { login: 1_000, endpoint: 2_000 } }, { chat: chatStub });
      const res = await request(small.url).post('/login').send({ email: 'demo@example.com', password: 'x'.repeat(1_200) }).expect(413);
      expect(res.body).toEqual(TOO_LARGE(1_000));
      const cookie = await signIn(small);
      const chat = await request(small.url).post('/chat').set('Cookie', cookie).send({ message: 'x'.repeat(2_100) }).expect(413);
      expect(chat.body).toEqual(TOO_LARGE(2_000));
    });
  });

  describe('Retry-After (issue 12 item 5: Retry-After capped)', () => {
    const HOSTILE = ['99999999999', '9'.repeat(401), 'Fri, 31 Dec 9999 23:59:59 GMT', '-5', 'soon', '0'];
    const expectCapped = (res: { headers: Record<string, string> }, cap: number) => {
      const value = res.headers['retry-after']!;
      expect(value).toMatch(/^\d+$/);
      expect(Number(value)).toBeGreaterThanOrEqual(1);
      expect(Number(value)).toBeLessThanOrEqual(cap);
    };
    it.each(HOSTILE)('upstream Retry-After %j on a login lockout or outage reaches the client as an integer in [1, 3600]', async (value) => {
      // Each step on its own app: the lockout locks this e-mail in that app's limiter.
      const locking = await start();
      mock.fault({ route: 'login', status: 429, headers: { 'retry-after': value }, body: { success: false, error: 'E006', message: 'Too many login attempts.' }, times: 1 });
      const locked = await request(locking.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(429);
      expectCapped(locked, 3600);
      const outage = await start();
      mock.fault({ route: 'login', status: 503, headers: { 'retry-after': value }, body: { error: 'down' } });
      const down = await request(outage.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(503);
      expectCapped(down, 3600);
      mock.clearFaults();
      const cookie = await signIn(outage);
      await request(outage.url).post('/logout').set('Cookie', cookie).expect(200);
    });
    it('a huge upstream Retry-After is capped at retryAfterCap on login, form login and a cold session', async () => {
      const capped = await start({ retryAfterCap: 120, breaker: { threshold: 100 } });
      const cookie = await signIn(capped);
      await request(capped.url).post('/logout').set('Cookie', cookie).expect(200);
      mock.fault({ route: 'login', status: 429, headers: { 'retry-after': '99999999999' }, body: { success: false, error: 'E006' } });
      const json = await request(capped.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(429);
      expect(json.headers['retry-after']).toBe('120');
      const form = await request(capped.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD }).expect(303);
      expect(form.headers['retry-after']).toBe('120');
      mock.clearFaults();
      const cold = await signIn(await start()); // a session whose next verification is a miss on `other` (capped has locked the e-mail)
      const other = await start({ retryAfterCap: 120 });
      mock.fault({ route: 'profile', status: 503, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }, body: { error: 'down' } });
      const unavailable = await request(other.url).get('/api/me').set('Cookie', cold).expect(503);
      expect(unavailable.headers['retry-after']).toBe('120');
    });
  });

  describe('e-mail (issue 12 item 7: one e-mail rule)', () => {
    it.each(['a(b@example.com', 'x@exa_mple.com', 'a b@example.com', 'x@example', 'x@1.2.3.4'])('%j is a 400 BAD_REQUEST before any upstream call, never a 503', async (email) => {
      const res = await request(app.url).post('/login').send({ email, password: PASSWORD }).expect(400);
      expect(res.body).toEqual({ error: 'BAD_REQUEST', message: 'Enter a valid e-mail address.' });
      expect(res.headers['retry-after']).toBeUndefined();
      const form = await request(app.url).post('/login').type('form').send({ email, password: PASSWORD, returnTo: '/account' }).expect(303);
      expect(form.headers.location).toBe('/login?error=BAD_REQUEST&returnTo=%2Faccount');
      expect(mock.calls().login ?? 0).toBe(0);
    });
    it.each(['é@example.com', 'jörg@example.com', 'ada+tag@bücher.example'])('%j is an address for idgate and the upstream alike: an ordinary failed login', async (email) => {
      const res = await request(app.url).post('/login').send({ email, password: PASSWORD }).expect(401);
      expect(res.body.error).toBe('INVALID_CREDENTIALS');
      expect(mock.calls().login).toBe(1);
    });
    it('an upstream 4xx idgate does not recognise is a definitive error, not an outage: no 503, no Retry-After, no retry', async () => {
      const cases = [
        [{ status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } }, 502, 'UPSTREAM_REFUSED'],
        [{ status: 409, body: { error: 'CONFLICT' } }, 502, 'UPSTREAM_REFUSED'],
        [{ status: 400, body: { success: false, error: 'BAD_REQUEST', message: 'email is not valid' } }, 400, 'BAD_REQUEST'],
      ] as const;
      const app = await start({ loginThrottle: false }); // six refusals in a row: not a throttling case
      for (const [fault, status, code] of cases) {
        mock.reset({ only: 'calls' });
        mock.fault({ route: 'login', times: 1, ...fault });
        const res = await request(app.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(status);
        expect(res.body.error).toBe(code);
        expect(res.headers['retry-after']).toBeUndefined();
        expect(mock.calls().login).toBe(1);
        mock.fault({ route: 'login', times: 1, ...fault });
        const form = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: PASSWORD }).expect(303);
        expect(form.headers.location).toBe(`/login?error=${code}`);
      }
      expect(logger.lines.some((l) => l.includes('upstream-refused'))).toBe(true);
    });
  });

  describe('a profile answer outside the contract is a definitive error, not an outage (issue 12 item 7)', () => {
    it('a 404 HTML page on profile: 502 UPSTREAM_REFUSED without Retry-After on a protected route, anonymous-unavailable on a public one', async () => {
      const fresh = await start();
      const cookie = `identityId=${await upstreamLogin(mock)}`;
      mock.fault({ route: 'profile', status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } });
      const res = await request(fresh.url).get('/api/me').set('Cookie', cookie).expect(502);
      expect(res.body).toEqual({ error: 'UPSTREAM_REFUSED' });
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      const pub = await request(fresh.url).get('/public').set('Cookie', cookie).expect(200);
      expect(pub.body.status).toBe('unavailable');
      expect(mock.calls().profile).toBe(2); // not retried
      mock.clearFaults();
      await request(fresh.url).get('/api/me').set('Cookie', cookie).expect(200);
    });
  });

  describe('circuit breaker (issue 13 item 5: the breaker counts outages only)', () => {
    it('repeated 404-HTML logouts leave the breaker closed: login and cold sessions still work', async () => {
      const fresh = await start();
      const sessions = [];
      for (let i = 0; i < 8; i++) sessions.push(await signIn(await start()));
      mock.fault({ route: 'logout', status: 404, body: '<!doctype html><h1>Not Found</h1>', headers: { 'content-type': 'text/html' } });
      for (const cookie of sessions) await request(fresh.url).post('/logout').set('Cookie', cookie).expect(200);
      expect(mock.calls().logout).toBe(8);
      mock.clearFaults();
      const cookie = await signIn(fresh);
      const cold = await signIn(app);
      await request(fresh.url).get('/api/me').set('Cookie', cookie).expect(200);
      await request(fresh.url).get('/api/me').set('Cookie', cold).expect(200);
    });
    it('5xx answers still open it', async () => {
      const fresh = await start({ breaker: { threshold: 3, cooldown: 60_000 } });
      mock.fault({ route: 'login', status: 500, body: '<html>oops</html>', headers: { 'content-type': 'text/html' } });
      for (let i = 0; i < 3; i++) await request(fresh.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(503);
      mock.clearFaults();
      mock.reset({ only: 'calls' });
      const failFast = await request(fresh.url).post('/login').send({ email: 'demo@example.com', password: PASSWORD }).expect(503);
      expect(failFast.body.error).toBe('UPSTREAM_UNAVAILABLE');
      expect(mock.calls().login ?? 0).toBe(0);
    });
  });

  describe('a cookie smuggled inside another cookie\'s value (issue 12, finding 2)', () => {
    const ATTACKER = { email: 'attacker@example.com', password: 'attacker-password' };
    /** A real session: log in through the app and take the value of its Set-Cookie (never a raw upstream id). */
    const session = async (target: RunningApp, name: string, email: string, password: string) => {
      const res = await request(target.url).post('/login').send({ email, password }).expect(200);
      const cookie = setCookies(res).find((c) => c.startsWith(`${name}=`));
      expect(cookie).toBeDefined();
      return cookie!.slice(name.length + 1, cookie!.indexOf(';'));
    };
    it.each([
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ])('hostPrefix %s, framework cookie parser %s: `pref=dark <name>=<A>; <name>=<V>` is V, for reads and for logout', async (hostPrefix, cookieParser) => {
      mock.addCustomer({ ...ATTACKER, id: 'c_attacker', name: 'Attacker' });
      const target = await start(hostPrefix ? { cookie: { hostPrefix: true } } : {}, { cookieParser });
      const name = hostPrefix ? '__Host-identityId' : 'identityId';
      const victim = await session(target, name, 'demo@example.com', PASSWORD);
      const attacker = await session(target, name, ATTACKER.email, ATTACKER.password);
      const smuggled = `pref=dark ${name}=${attacker}; ${name}=${victim}`;
      const me = await request(target.url).get('/api/me').set('Cookie', smuggled).expect(200);
      expect(me.body.identity).toMatchObject({ id: 'c_demo', email: 'demo@example.com' });
      const pub = await request(target.url).get('/public').set('Cookie', `pref=dark\t${name}=${attacker}; ${name}=${victim}`).expect(200);
      expect(pub.body.identity).toMatchObject({ id: 'c_demo' });
      // Alone, a name inside a value is no session at all.
      await request(target.url).get('/api/me').set('Cookie', `pref=dark ${name}=${attacker}`).expect(401);
      // Logout ends the session the request was authenticated as, not the smuggled one.
      await request(target.url).post('/logout').set('Cookie', smuggled).expect(200);
      await request(target.url).get('/api/me').set('Cookie', `${name}=${victim}`).expect(401);
      const still = await request(target.url).get('/api/me').set('Cookie', `${name}=${attacker}`).expect(200);
      expect(still.body.identity).toMatchObject({ id: 'c_attacker' });
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
