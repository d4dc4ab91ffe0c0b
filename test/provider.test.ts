// Issue 16: idgate in front of another opaque-session upstream, through a
// provider written against the public interface only (as a user would), on
// Express, Koa, Fastify and Hono, over real sockets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { LoginError, UpstreamError, type IdentityProvider, type IdgateOptions, type ProfileResult } from '@idgate/core';
import { openSession, sessionKeys, signSession } from '@idgate/core/adapter';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import fc from 'fast-check';
import { captureLogger, setCookies, telemetryCapture } from './harness.js';
import { exchange, inPool } from './raw-socket.js';
import { ANN, startSessionsUpstream, type SessionsUpstream } from './sessions-upstream.js';

const SECRET = 'provider-suite-secret-0123456789';
const keys = sessionKeys([SECRET]);
const HTML = 'text/html,application/xhtml+xml';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The provider a user would write for the sessions upstream, from `@idgate/core`'s public surface only. */
function sessionsProvider(base: string): IdentityProvider & { verified: string[] } {
  const verified: string[] = [];
  const unavailable = (what: string, res: Response) =>
    new UpstreamError('UPSTREAM_UNAVAILABLE', `sessions ${what}: upstream answered ${res.status}`, {
      upstreamStatus: res.status,
      retryAfter: Number(res.headers.get('retry-after')) || undefined,
    });
  return {
    name: 'sessions',
    verified,
    isToken: (value) => TOKEN.test(value),
    async login({ email, password }, signal) {
      const res = await fetch(`${base}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }), signal });
      if (res.status === 401) throw new LoginError('INVALID_CREDENTIALS', 'Wrong e-mail or password.', { status: 401 });
      if (res.status !== 201) throw unavailable('login', res);
      return ((await res.json()) as { token: string }).token;
    },
    async verify(token, signal): Promise<ProfileResult> {
      verified.push(token);
      const res = await fetch(`${base}/sessions/${token}`, { signal });
      if (res.status === 404) return { kind: 'invalid' };
      if (res.status === 410) return { kind: 'expired' };
      if (res.status !== 200) throw unavailable('verify', res);
      const { user } = (await res.json()) as { user: { id: string; email: string; name: string } & Record<string, unknown> };
      const { id, email, name, ...attributes } = user;
      return { kind: 'valid', profile: { id, email, name, attributes } };
    },
    async logout(token, signal) {
      const res = await fetch(`${base}/sessions/${token}`, { method: 'DELETE', signal });
      if (res.status !== 204 && res.status !== 404) throw unavailable('logout', res);
    },
  };
}

const cookieOf = (res: { headers: Record<string, unknown> }) => {
  const set = setCookies(res).find((c) => c.startsWith('identityId='));
  return set?.split(';')[0]!.slice('identityId='.length);
};
/** A session issued upstream and signed as idgate would have: a cold cookie, never verified by this app yet. */
const coldCookie = (upstream: SessionsUpstream) => {
  const token = upstream.issue();
  return { token, value: signSession(keys, token, Date.now()) };
};

/** Generated cookie values per adapter (raw sockets). */
const GENERATED = Number(process.env.IDGATE_PROVIDER_COOKIE_RUNS ?? 600);

const underTest = adapters.filter((a) => ['express', 'koa', 'fastify', 'hono'].includes(a.name));

describe.each(underTest)('$name: idgate in front of another opaque-session upstream', (adapter) => {
  let upstream: SessionsUpstream;
  let provider: ReturnType<typeof sessionsProvider>;
  let app: RunningApp;
  const apps: RunningApp[] = [];
  const logger = captureLogger();
  const telemetry = telemetryCapture();
  const start = async (idgate: IdgateOptions) => {
    const a = await adapter.start({ idgate: { secret: SECRET, logger, onEvent: telemetry.onEvent, ...idgate } });
    apps.push(a);
    return a;
  };

  beforeAll(async () => {
    upstream = await startSessionsUpstream();
    provider = sessionsProvider(upstream.url);
    app = await start({ provider });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await upstream.close();
    // Neither a token nor the password reached a log line, across every case.
    const all = logger.lines.join('\n');
    expect(all).not.toContain(ANN.password);
    for (const token of [...upstream.asked, ...provider.verified]) expect(all).not.toContain(token);
    // Spans name the provider, and carry no token either.
    const seen = await telemetry.output();
    expect(seen).toContain('"idgate.upstream":"sessions"');
    expect(seen).not.toContain('"idgate.upstream":"bizkithub"');
    for (const token of upstream.asked) expect(seen).not.toContain(token);
  });
  beforeEach(() => {
    upstream.reset();
    provider.verified.length = 0;
  });

  it('login sets a signed cookie around the upstream token, and answers with the identity', async () => {
    const res = await request(app.url).post('/login').send({ email: 'Ann@Example.com', password: ANN.password }).expect(200);
    expect(res.body).toEqual({ authenticated: true, identity: { id: ANN.id, email: ANN.email, name: ANN.name, attributes: { plan: 'enterprise' }, verifiedAt: expect.any(String) } });
    const set = setCookies(res).find((c) => c.startsWith('identityId='))!;
    expect(set).toMatch(/; HttpOnly/i);
    const value = cookieOf(res)!;
    const [token, stamp, tag] = value.split('.');
    expect(token).toMatch(TOKEN);
    expect(stamp).toMatch(/^[0-9a-z]{1,9}$/);
    expect(tag).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(openSession(keys, value, false, (v) => TOKEN.test(v))).toMatchObject({ id: token, signed: true });
    expect(upstream.calls.create).toBe(1);
  });

  it('a wrong password is INVALID_CREDENTIALS (401) and sets no cookie', async () => {
    const res = await request(app.url).post('/login').send({ email: ANN.email, password: 'wrong' }).expect(401);
    expect(res.body).toMatchObject({ error: 'INVALID_CREDENTIALS' });
    expect(cookieOf(res)).toBeUndefined();
  });

  it('a signed-in request is a cache hit: no upstream call, no provider call', async () => {
    const login = await request(app.url).post('/login').send({ email: ANN.email, password: ANN.password }).expect(200);
    const cookie = `identityId=${cookieOf(login)}`;
    const [asked, verified] = [upstream.calls.get, provider.verified.length];
    for (let i = 0; i < 3; i++) {
      const res = await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
      expect(res.body.identity).toMatchObject({ id: ANN.id, email: ANN.email });
    }
    await request(app.url).get('/admin').set('Cookie', cookie).expect(200);
    expect([upstream.calls.get, provider.verified.length]).toEqual([asked, verified]);
  });

  it('a cold cookie is verified once upstream, then served from the cache', async () => {
    const { token, value } = coldCookie(upstream);
    await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(200);
    await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(200);
    expect(upstream.asked).toEqual([token]);
  });

  it('logout is final: the upstream saw DELETE, and the cookie is refused afterwards without asking it', async () => {
    const login = await request(app.url).post('/login').send({ email: ANN.email, password: ANN.password }).expect(200);
    const value = cookieOf(login)!;
    const token = value.split('.')[0]!;
    await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(200);
    const out = await request(app.url).post('/logout').set('Cookie', `identityId=${value}`).expect(200);
    expect(out.body).toEqual({ loggedOut: true });
    expect(setCookies(out).some((c) => /^identityId=;/.test(c) && /Max-Age=0/i.test(c))).toBe(true);
    expect(upstream.deleted).toEqual([token]);
    const asked = upstream.calls.get;
    await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(401);
    await request(app.url).get('/account').set('Cookie', `identityId=${value}`).set('Accept', HTML).expect(303);
    expect(upstream.calls.get).toBe(asked);
  });

  it('upstream 410: SESSION_EXPIRED, a redirect for a navigation and 401 for an API call, cookie cleared', async () => {
    const { token, value } = coldCookie(upstream);
    upstream.expire(token);
    const nav = await request(app.url).get('/account').set('Cookie', `identityId=${value}`).set('Accept', HTML).set('Sec-Fetch-Mode', 'navigate').expect(303);
    expect(nav.headers.location).toBe('/login?returnTo=%2Faccount&reason=expired');
    expect(setCookies(nav).some((c) => /^identityId=;/.test(c))).toBe(true);
    const api = await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(401);
    expect(api.body).toEqual({ error: 'SESSION_EXPIRED' });
    const other = coldCookie(upstream);
    upstream.expire(other.token);
    const cold = await request(app.url).get('/api/me').set('Cookie', `identityId=${other.value}`).expect(401);
    expect(cold.body).toEqual({ error: 'SESSION_EXPIRED' });
  });

  it('upstream 404 (unknown session): INVALID_IDENTITY', async () => {
    const value = signSession(keys, 'Z'.repeat(43), Date.now());
    const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(401);
    expect(res.body).toEqual({ error: 'INVALID_IDENTITY' });
    expect(upstream.asked).toEqual(['Z'.repeat(43)]);
  });

  it('upstream down: 503 with Retry-After on a protected route and on login, never a silent anonymous', async () => {
    const { value } = coldCookie(upstream);
    upstream.mode = 'down';
    const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(503);
    expect(res.body).toEqual({ error: 'UPSTREAM_UNAVAILABLE' });
    expect(res.headers['retry-after']).toBe('7');
    const login = await request(app.url).post('/login').send({ email: ANN.email, password: ANN.password }).expect(503);
    expect(login.body).toMatchObject({ error: 'UPSTREAM_UNAVAILABLE' });
    expect(login.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(cookieOf(login)).toBeUndefined();
  });

  it('a malformed or unsigned token in the cookie never reaches the provider', async () => {
    const good = coldCookie(upstream);
    const [, stamp, tag] = good.value.split('.');
    const flipped = tag!.slice(0, -1) + (tag!.endsWith('A') ? 'B' : 'A');
    const values = [
      signSession(keys, 'short', Date.now()), // signed by us, but not this provider's grammar
      signSession(keys, 'A'.repeat(44), Date.now()),
      signSession(keys, 'Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvdg', Date.now()), // a BizKitHub identityId
      good.token, // the bare upstream token: unsigned
      `${good.token}.${stamp}.${flipped}`, // tampered tag
      `x.${good.value}`,
      `${good.token}.${stamp}.${tag}.x`,
      signSession(sessionKeys(['another-secret-0123456789abcdef']), good.token, Date.now()),
    ];
    for (const value of values) {
      const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(401);
      expect(res.body).toEqual({ error: 'UNAUTHENTICATED' });
    }
    expect(provider.verified).toEqual([]);
    expect(upstream.calls.get).toBe(0);
  });

  it(`${GENERATED} generated cookie values over raw sockets: only a value idgate signed with a token of the provider's grammar reaches it, and only the real session signs in`, async () => {
    const real = coldCookie(upstream);
    const [token, stamp, tag] = real.value.split('.') as [string, string, string];
    const grammarOk = (t: string) => TOKEN.test(t);
    /** Values signed with this app's secret: the only ones the provider may be asked about (when their token fits its grammar). */
    const signed = new Map<string, string>([[real.value, token]]);
    const sign = (t: string) => {
      const value = signSession(keys, t, Date.now());
      signed.set(value, t);
      return value;
    };
    const charFrom = fc.constantFrom('A', 'a', '0', '.', '-', '_', '%', '"', ' ', '\t', ';', ',', '=', '\\', 'é', '\u00ff', '+', '/');
    const value = fc.oneof(
      // The real value with one character replaced, inserted or removed, or cut.
      fc.tuple(fc.nat(), charFrom).map(([i, c]) => { const at = i % real.value.length; return real.value.slice(0, at) + c + real.value.slice(at + 1); }),
      fc.tuple(fc.nat(), charFrom).map(([i, c]) => { const at = i % (real.value.length + 1); return real.value.slice(0, at) + c + real.value.slice(at); }),
      fc.nat().map((i) => real.value.slice(0, i % real.value.length)),
      // Its parts rearranged, doubled, or the bare token.
      fc.constantFrom(token, `${token}.${stamp}`, `${stamp}.${token}.${tag}`, `${real.value}.${tag}`, `${token}.${token}.${tag}`, `${real.value}${real.value}`),
      // Quoted or percent-encoded spellings of the real value (the cookie grammar undoes both: the real session).
      fc.nat().map((i) => { const at = i % real.value.length; return real.value.slice(0, at) + `%${real.value.charCodeAt(at).toString(16).padStart(2, '0')}` + real.value.slice(at + 1); }),
      fc.constant(`"${real.value}"`),
      // Signed by this app: tokens in and out of the provider's grammar (a fitting one unknown upstream: asked once, refused).
      fc.string({ unit: fc.constantFrom(...'ABCxyz019-_'), minLength: 43, maxLength: 43 }).map(sign),
      fc.string({ unit: fc.constantFrom(...'ABC019-_.+/='), minLength: 1, maxLength: 60 }).filter((t) => !grammarOk(t) && !t.includes('.')).map(sign),
      // Signed under another secret, and anything at all.
      fc.string({ unit: fc.constantFrom(...'ABCxyz019-_'), minLength: 43, maxLength: 43 }).map((t) => signSession(sessionKeys(['another-secret-0123456789abcdef']), t, Date.now())),
      fc.string({ unit: 'binary-ascii', maxLength: 90 }),
    );
    const values = fc.sample(value, { numRuns: GENERATED, seed: 16_017 });
    const port = Number(new URL(app.url).port);
    /** What the cookie grammar reads from `identityId=<v>` (SECURITY.md: trimmed, one pair of quotes off, percent-decoded when it decodes). */
    const read = (v: string) => {
      let t = v.replace(/^[ \t]+|[ \t]+$/g, '');
      const semi = t.indexOf(';');
      if (semi !== -1) t = t.slice(0, semi).replace(/[ \t]+$/, '');
      if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
      else if (t === '"') t = '';
      if (!t.includes('%')) return t;
      try { return decodeURIComponent(t); } catch { return t; }
    };
    const before = provider.verified.length;
    const failures: string[] = [];
    let signedIn = 0;
    const answers = await inPool(values, 8, (v) => exchange(port, `GET /cookie-view?name=identityId HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: identityId=${v}\r\nConnection: close\r\n\r\n`));
    values.forEach((v, i) => {
      const answer = answers[i]!;
      if (answer.status >= 500 || answer.status === 0) return void failures.push(`${JSON.stringify(v)} -> ${answer.status}`);
      if (answer.status === 400) return; // Node's parser refused the header bytes: nothing reached idgate
      const { identity } = JSON.parse(answer.body) as { identity: string | null };
      const isReal = read(v) === real.value;
      if (isReal) signedIn++;
      if ((identity === ANN.id) !== isReal) failures.push(`${JSON.stringify(v)}: identity ${identity}, expected ${isReal ? ANN.id : 'none'}`);
    });
    const asked = provider.verified.slice(before);
    for (const t of asked) if (![...signed.values()].includes(t) || !grammarOk(t)) failures.push(`the provider was asked about ${JSON.stringify(t)}`);
    expect(failures).toEqual([]);
    // The real session was verified once (then a hit); each fitting signed token at most once.
    expect(asked.filter((t) => t === token)).toHaveLength(1);
    expect(signedIn).toBeGreaterThan(GENERATED / 50);
    expect(new Set(asked).size).toBe(asked.length);
  });

  describe('a provider that fails', () => {
    let throwing: RunningApp;
    let refusing: RunningApp;
    beforeAll(async () => {
      const base = sessionsProvider(upstream.url);
      // What a careless provider does: a plain Error, with the token and the password in its message.
      throwing = await start({
        provider: {
          ...base,
          name: 'careless',
          verify: async (token) => {
            throw new Error(`lookup failed for ${token}`);
          },
          login: async ({ email, password }) => {
            throw new Error(`login failed for ${email}:${password}`);
          },
        },
      });
      refusing = await start({
        provider: {
          ...base,
          name: 'refusing',
          verify: async () => {
            throw new UpstreamError('UPSTREAM_REFUSED', 'sessions verify: upstream answered 409', { upstreamStatus: 409 });
          },
        },
      });
    });

    it('a plain Error is a typed 503 with Retry-After: no stack, no token, no message of its own', async () => {
      const { token, value } = coldCookie(upstream);
      const res = await request(app.url).get('/public').expect(200); // the shared app is unaffected
      expect(res.body.status).toBe('anonymous');
      const api = await request(throwing.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(503);
      expect(api.body).toEqual({ error: 'UPSTREAM_UNAVAILABLE' });
      expect(api.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      const login = await request(throwing.url).post('/login').send({ email: ANN.email, password: ANN.password }).expect(503);
      expect(login.body).toEqual({ error: 'UPSTREAM_UNAVAILABLE', message: 'Sign-in is unavailable right now. Try again shortly.' });
      expect(login.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      for (const text of [api.text, login.text]) {
        for (const leak of [token, ANN.password, 'failed for', '    at ', 'Error:']) expect(text).not.toContain(leak);
      }
      const logged = logger.lines.join('\n');
      expect(logged).toContain('careless verify: the provider failed (Error)');
      expect(logged).not.toContain(token);
    });

    it('a definitive refusal the provider raises (outage: false) is a 502, without Retry-After', async () => {
      const { value } = coldCookie(upstream);
      const res = await request(refusing.url).get('/api/me').set('Cookie', `identityId=${value}`).expect(502);
      expect(res.body).toEqual({ error: 'UPSTREAM_REFUSED' });
      expect(res.headers['retry-after']).toBeUndefined();
    });
  });
});
