// idgate's own login limiter, over real sockets on every adapter, against the
// real mock upstream (whose E006 lockout is 5 failures per e-mail in 15 min),
// and across two instances sharing a real redis-server.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { redisStore, type RedisStore } from '@idgate/redis';
import { createMetrics, type IdgateEvent } from '@idgate/core';
import { adapters } from './adapters/index.js';
import type { AppOptions, RunningApp } from './adapters/types.js';
import { captureLogger, optionsFor, setCookies, startMockUpstream, type MockUpstream } from './harness.js';
import { redisClient, startRedis, type RedisServer } from './redis-server.js';

const PASSWORD = 'demo-password';
const SECRET = 'shared-secret-between-instances-0123456789';
const LOCKED = 'locked@example.com'; // the upstream answers E006 for it, always
const nobody = () => `nobody-${randomUUID().slice(0, 8)}@example.com`;

type Answer = { status: number; text: string; headers: Record<string, unknown> };
/** Everything a client sees except `Date`, which is the wall clock's. */
function answer(res: request.Response): Answer {
  const headers = { ...(res.headers as Record<string, unknown>) };
  delete headers.date;
  return { status: res.status, text: res.text, headers };
}

describe.each(adapters)('$name: login throttle', (adapter) => {
  let mock: MockUpstream;
  const apps: RunningApp[] = [];
  const logger = captureLogger();
  const events: IdgateEvent[] = [];
  // A clock that stands still unless a case moves it: Retry-After is then exact.
  let clock = Date.now();
  const start = async (extra: Parameters<typeof optionsFor>[1] = {}, more: Omit<AppOptions, 'idgate'> = {}) => {
    const app = await adapter.start({ idgate: optionsFor(mock, { logger, now: () => clock, onEvent: (e) => events.push(e), ...extra }), ...more });
    apps.push(app);
    return app;
  };
  const post = (app: RunningApp, email: string, password = 'wrong', ip?: string) => {
    const req = request(app.url).post('/login');
    if (ip) req.set('X-Forwarded-For', ip);
    return req.send({ email, password });
  };
  const logins = () => mock.calls().login ?? 0;

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0, customers: [{ email: LOCKED, password: PASSWORD, failWith: 'E006' }] });
  });
  beforeEach(() => {
    mock.reset();
    events.length = 0;
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
    // What is logged about throttling names keyed hashes only.
    const all = logger.lines.join('\n');
    expect(all).not.toContain('@example.com');
    expect(all).not.toContain('203.0.113.');
    expect(all).not.toContain(PASSWORD);
    expect(all).toContain('login-throttled');
  });

  it('after N failures an existing and an unknown e-mail get byte-identical 429s, before any upstream call', async () => {
    const app = await start();
    const unknown = nobody();
    for (const email of ['demo@example.com', unknown]) {
      for (let i = 0; i < 5; i++) {
        const res = await post(app, email);
        expect([res.status, res.body.error]).toEqual([401, 'INVALID_CREDENTIALS']);
      }
    }
    const before = logins();
    const existing = answer(await post(app, 'demo@example.com'));
    const missing = answer(await post(app, unknown));
    expect(existing).toEqual(missing);
    expect(existing.status).toBe(429);
    expect(JSON.parse(existing.text)).toEqual({ error: 'TOO_MANY_ATTEMPTS', message: 'Too many login attempts. Try again later.' });
    expect(existing.headers['retry-after']).toBe('900');
    expect(existing.headers['cache-control']).toBe('no-store');
    expect(logins()).toBe(before);
    // The right password is refused too while the e-mail is throttled.
    expect(answer(await post(app, 'demo@example.com', PASSWORD))).toEqual(missing);
    // The upstream's own lockout (E006) is answered exactly like the limiter.
    expect(answer(await post(app, LOCKED))).toEqual(missing);
    expect(events.filter((e) => e.type === 'login-throttled').map((e) => (e as { reason: string }).reason)).toEqual(['email', 'email', 'email', 'email']);
    expect(events.some((e) => JSON.stringify(e).includes('@example.com'))).toBe(false);
    // A form post is throttled the same way for both.
    const formA = await request(app.url).post('/login').type('form').send({ email: 'demo@example.com', password: 'x' });
    const formB = await request(app.url).post('/login').type('form').send({ email: unknown, password: 'x' });
    expect(answer(formA)).toEqual(answer(formB));
    expect(formA.status).toBe(303);
    expect(formA.headers.location).toBe('/login?error=TOO_MANY_ATTEMPTS');
  });

  it('the window slides: the first failure ageing out frees one attempt, with the same answer for both e-mails', async () => {
    const app = await start();
    const unknown = nobody();
    const t0 = clock;
    try {
      for (const email of ['demo@example.com', unknown]) for (let i = 0; i < 5; i++) await post(app, email).expect(401);
      clock = t0 + 10 * 60_000;
      const a = answer(await post(app, 'demo@example.com'));
      const b = answer(await post(app, unknown));
      expect(a).toEqual(b);
      expect(a.headers['retry-after']).toBe('300');
      clock = t0 + 15 * 60_000;
      mock.advanceClock(15 * 60_000);
      await post(app, 'demo@example.com').expect(401);
      await post(app, unknown).expect(401);
      expect(answer(await post(app, 'demo@example.com'))).toEqual(answer(await post(app, unknown)));
    } finally {
      clock = t0;
    }
  });

  it('a successful login clears the e-mail counter', async () => {
    const app = await start();
    for (let i = 0; i < 4; i++) await post(app, 'demo@example.com').expect(401);
    const ok = await post(app, 'demo@example.com', PASSWORD).expect(200);
    expect(setCookies(ok)[0]).toMatch(/^identityId=/);
    for (let i = 0; i < 4; i++) await post(app, 'demo@example.com').expect(401);
    await post(app, 'demo@example.com', PASSWORD).expect(200);
  });

  it('300 e-mails from one client: past the per-IP limit every answer is 429 and the upstream sees no more calls', async () => {
    const metrics = createMetrics();
    const app = await start({ onEvent: metrics.onEvent });
    const statuses: number[] = [];
    let callsAtLimit = -1;
    for (let i = 0; i < 300; i++) {
      const res = await post(app, nobody());
      statuses.push(res.status);
      if (i === 29) callsAtLimit = logins();
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    expect(callsAtLimit).toBe(30);
    expect(logins()).toBe(30);
    // Even the right password for a real account waits for the IP's window.
    await post(app, 'demo@example.com', PASSWORD).expect(429);
    expect(metrics.throttled()).toEqual({ email: 0, ip: 271 });
    expect(metrics.counters()['login-throttled']).toBe(271);
    expect(metrics.prometheus()).toContain('idgate_login_throttled_total{reason="ip"} 271');
  });

  it('with trust proxy, two forwarded IPs are counted apart; without it, X-Forwarded-For is ignored', async () => {
    const proxied = await start({}, { trustProxy: true });
    for (let i = 0; i < 30; i++) await post(proxied, nobody(), 'wrong', '203.0.113.1').expect(401);
    await post(proxied, nobody(), 'wrong', '203.0.113.1').expect(429);
    const before = logins();
    await post(proxied, nobody(), 'wrong', '203.0.113.2').expect(401);
    expect(logins()).toBe(before + 1);

    const direct = await start();
    for (let i = 0; i < 30; i++) await post(direct, nobody(), 'wrong', `203.0.113.${10 + i}`).expect(401);
    await post(direct, nobody(), 'wrong', '203.0.113.99').expect(429);
  });

  it('loginThrottle: false keeps the old pass-through', async () => {
    const app = await start({ loginThrottle: false });
    for (let i = 0; i < 8; i++) await post(app, nobody()).expect(401);
  });
});

describe.each(adapters)('$name: login throttle shared through Redis by two instances', (adapter) => {
  let mock: MockUpstream;
  let redis: RedisServer;
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];
  const apps: RunningApp[] = [];
  const connect = () => redisClient(redis.url, clients);
  const instance = async () => {
    const store = redisStore({ client: connect(), timeout: 1_000 });
    stores.push(store);
    const app = await adapter.start({ idgate: optionsFor(mock, { store, secret: SECRET }) });
    apps.push(app);
    return app;
  };
  const post = (app: RunningApp, email: string, password = 'wrong') => request(app.url).post('/login').send({ email, password });
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    redis = await startRedis();
    a = await instance();
    b = await instance();
    // An unready client is a store failure (memory decides): start from connected ones.
    await Promise.all(clients.map((c) => (c.status === 'ready' ? undefined : new Promise((resolve) => c.once('ready', resolve)))));
  });
  afterAll(async () => {
    await Promise.all(apps.map((x) => x.close()));
    await Promise.all(stores.map((s) => s.close()));
    clients.forEach((c) => c.disconnect());
    await redis.stop();
    await mock.close();
  });

  it('failures on A lock the e-mail on B, for an existing and an unknown e-mail alike', async () => {
    mock.reset();
    const unknown = nobody();
    for (const email of ['demo@example.com', unknown]) for (let i = 0; i < 5; i++) await post(a, email).expect(401);
    const before = mock.calls().login;
    const existing = await post(b, 'demo@example.com');
    const missing = await post(b, unknown);
    expect(existing.status).toBe(429);
    expect([missing.status, missing.text]).toEqual([existing.status, existing.text]);
    expect(Object.keys(existing.headers).sort()).toEqual(Object.keys(missing.headers).sort());
    expect(Number(existing.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(existing.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(mock.calls().login).toBe(before);
    // Redis holds keyed hashes only, never the e-mail or the IP.
    const keys = await clients[0]!.keys('*');
    expect(keys.some((k) => k.includes('@') || k.includes('127.0.0.1'))).toBe(false);
    expect(keys.filter((k) => k.startsWith('idgate:a:')).length).toBeGreaterThanOrEqual(3);
  });

  it('a success on B clears the count A built', async () => {
    mock.reset();
    const admin = connect();
    await admin.flushall();
    for (let i = 0; i < 4; i++) await post(a, 'demo@example.com').expect(401);
    await post(b, 'demo@example.com', PASSWORD).expect(200);
    for (let i = 0; i < 4; i++) await post(a, 'demo@example.com').expect(401);
  });

  it('Redis down: logins go on, limited by each instance\'s memory', async () => {
    mock.reset();
    const store = redisStore({ client: connect(), timeout: 50 });
    stores.push(store);
    const broken = { ...store, takeAttempt: async () => { throw new Error('down'); }, returnAttempt: async () => { throw new Error('down'); }, lockAttempts: async () => { throw new Error('down'); }, clearAttempts: async () => { throw new Error('down'); } };
    const events: IdgateEvent[] = [];
    const app = await adapter.start({ idgate: optionsFor(mock, { store: broken, secret: SECRET, onEvent: (e) => events.push(e) }) });
    apps.push(app);
    await post(app, 'demo@example.com', PASSWORD).expect(200);
    const unknown = nobody();
    for (let i = 0; i < 5; i++) await post(app, unknown).expect(401);
    await post(app, unknown).expect(429);
    expect(events.some((e) => e.type === 'store-error' && e.operation === 'take-attempt')).toBe(true);
  });
});
