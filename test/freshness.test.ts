// Session freshness on a fake clock shared by idgate and the mock upstream:
// refresh-ahead, idle expiry, rolling cookie, stale-if-error, circuit breaker.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdgateEvent } from '@idgate/core';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, setCookies, startMockUpstream, upstreamLogin, rawOf, type MockUpstream } from './harness.js';

const SECOND = 1000;

describe.each(adapters)('$name: session freshness on a fake clock', (adapter) => {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const now = () => t;
  const advance = (ms: number) => {
    t += ms;
  };
  let mock: MockUpstream;
  const apps: RunningApp[] = [];
  const events: IdgateEvent[] = [];
  const start = async (extra: Parameters<typeof optionsFor>[1] = {}) => {
    const app = await adapter.start({
      idgate: optionsFor(mock, {
        now,
        onEvent: (e) => events.push(e),
        cache: { ttl: 20 * SECOND, refreshAhead: 0.5, staleIfError: 60 * SECOND, upstreamIdle: 60 * SECOND },
        breaker: { threshold: 3, cooldown: 5 * SECOND },
        ...extra,
      }),
    });
    apps.push(app);
    return app;
  };
  // Mock time runs on the same fake clock, offset by its own advanceClock.
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0, now, sessionIdleMs: 60 * SECOND });
  });
  afterEach(() => {
    mock.clearFaults();
    events.length = 0;
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
  });

  it('an active identity stays valid across several upstream inactivity windows on cache hits', async () => {
    const app = await start();
    const id = await upstreamLogin(mock);
    const cookie = `identityId=${id}`;
    await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
    mock.reset({ only: 'calls' });
    // 12 steps of 15 s = 180 s = three 60 s inactivity windows.
    for (let i = 0; i < 12; i++) {
      advance(15 * SECOND);
      await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
      await sleep(15); // let the background refresh land
    }
    const refreshes = mock.calls().profile;
    expect(refreshes).toBeGreaterThanOrEqual(6); // one per entry lifetime at least
    expect(refreshes).toBeLessThanOrEqual(12); // never more than one per request
    expect(events.filter((e) => e.type === 'refreshed').length).toBeGreaterThanOrEqual(6);
    expect(mock.sessions().find((s) => s.identityId === rawOf(id))!.expired).toBe(false);
  });

  it('an idle identity expires on schedule', async () => {
    const app = await start();
    const id = await upstreamLogin(mock);
    await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    advance(70 * SECOND); // past the upstream's 60 s window, inside our stale window
    const res = await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401);
    expect(res.body).toEqual({ error: 'SESSION_EXPIRED' }); // definitive: stale data never overrides it
  });

  it('rolling cookie: renewed at most once per interval, never past the absolute lifetime', async () => {
    const app = await start({ cookie: { maxAge: 200, renewInterval: 100, absoluteLifetime: 300 } });
    const login = await request(app.url).post('/login').send({ email: 'demo@example.com', password: 'demo-password' }).expect(200);
    expect(setCookies(login)[0]).toContain('Max-Age=200');
    const cookie = setCookies(login)[0]!.split(';')[0]!;
    const seen: Array<[number, string | undefined]> = [];
    // Active every 25 s (inside the upstream's 60 s window) for 275 s.
    for (let at = 25; at <= 275; at += 25) {
      advance(25 * SECOND);
      const res = await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
      const renewed = setCookies(res).find((c) => c.startsWith('identityId='));
      seen.push([at, renewed && /Max-Age=(\d+)/.exec(renewed)![1]]);
      await sleep(5);
    }
    // Renewed at 100 s and 200 s only; the second renewal is capped by the 300 s absolute lifetime.
    expect(seen.filter(([, v]) => v !== undefined)).toEqual([[100, '200'], [200, '100']]);
    advance(25 * SECOND); // 300 s
    const over = await request(app.url).get('/api/me').set('Cookie', cookie).expect(401);
    expect(over.body).toEqual({ error: 'SESSION_EXPIRED' });
    expect(setCookies(over)[0]).toMatch(/^identityId=;.*Max-Age=0/);
  });

  it('upstream down: stale within the window, 503 past it, breaker closes after recovery', async () => {
    const app = await start();
    const id = await upstreamLogin(mock);
    const cookie = `identityId=${id}`;
    await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
    mock.fault({ route: 'profile', status: 503, body: { error: 'down' } });
    advance(25 * SECOND); // entry past its ttl: must re-verify, the upstream fails
    const stale = await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
    expect(stale.body.identity.stale).toBe(true);
    expect(events.some((e) => e.type === 'stale-served')).toBe(true);
    const cold = await upstreamLogin(mock).catch(() => undefined); // login route is not faulted
    const coldRes = await request(app.url).get('/api/me').set('Cookie', `identityId=${cold}`).expect(503);
    expect(Number(coldRes.headers['retry-after'])).toBeGreaterThan(0); // a cold identity never passes
    advance(60 * SECOND); // 85 s: beyond ttl + staleIfError
    const down = await request(app.url).get('/api/me').set('Cookie', cookie).expect(503);
    expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
    const callsWhileOpen = mock.calls().profile;
    await request(app.url).get('/api/me').set('Cookie', cookie).expect(503);
    expect(mock.calls().profile).toBe(callsWhileOpen); // breaker open: failing fast, no hammering
    mock.clearFaults();
    advance(6 * SECOND); // past the breaker cooldown: one probe goes through
    // The upstream answers again (its session idled out meanwhile: a definitive answer).
    await request(app.url).get('/api/me').set('Cookie', cookie).expect(401, { error: 'SESSION_EXPIRED' });
    expect(mock.calls().profile).toBe(callsWhileOpen + 1);
    const fresh = await upstreamLogin(mock);
    await request(app.url).get('/api/me').set('Cookie', `identityId=${fresh}`).expect(200);
  });

  it('malformed, HTML, never-ending and oversized bodies are transient: 503, nothing cleared or negative-cached', async () => {
    const app = await start({ upstream: { timeout: 300, totalTimeout: 600, retries: 0, maxBodyBytes: 64 * 1024 }, breaker: { threshold: 10, cooldown: 5 * SECOND } });
    const id = await upstreamLogin(mock);
    const cookie = `identityId=${id}`;
    for (const fault of [{ status: 200, body: '{"success": tru' }, { status: 200, body: '<html>maintenance</html>' }, { trickle: true }, { bodyBytes: 200_000 }]) {
      mock.fault({ route: 'profile', times: 1, ...fault });
      const res = await request(app.url).get('/api/me').set('Cookie', cookie).expect(503);
      expect(setCookies(res)).toEqual([]);
    }
    await request(app.url).get('/api/me').set('Cookie', cookie).expect(200);
  });
});
