// Two app instances share a real redis-server: logins, logouts and outages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisStore, type RedisStore } from '@idgate/redis';
import type { IdgateEvent } from '@idgate/core';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, setCookies, startMockUpstream, type MockUpstream } from './harness.js';
import { redisClient, startRedis, type RedisServer } from './redis-server.js';

const SECRET = 'shared-secret-between-instances-0123456789';

describe.each(adapters)('$name: Redis store shared by two instances', (adapter) => {
  let mock: MockUpstream;
  let redis: RedisServer;
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];
  const apps: RunningApp[] = [];
  const events: IdgateEvent[] = [];

  const connect = () => redisClient(redis.url, clients);
  const instance = async () => {
    const store = redisStore({ client: connect() });
    stores.push(store);
    const app = await adapter.start({ idgate: optionsFor(mock, { store, secret: SECRET, onEvent: (e) => events.push(e) }) });
    apps.push(app);
    return app;
  };
  const login = async (app: RunningApp) => {
    const res = await request(app.url).post('/login').send({ email: 'demo@example.com', password: 'demo-password' }).expect(200);
    return setCookies(res)[0]!.split(';')[0]!;
  };
  const until = async (check: () => Promise<boolean>, ms = 2000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return true;
      await sleep(20);
    }
    return false;
  };

  let a: RunningApp;
  let b: RunningApp;
  let admin: Redis;

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    redis = await startRedis();
    admin = connect();
    a = await instance();
    b = await instance();
  });
  afterAll(async () => {
    await Promise.all(apps.map((x) => x.close()));
    await Promise.all(stores.map((s) => s.close()));
    clients.forEach((c) => c.disconnect());
    await redis.stop();
    await mock.close();
  });

  it('a login on A is a cache hit on B: no extra upstream call', async () => {
    mock.reset();
    const cookie = await login(a);
    expect(mock.calls().profile).toBe(1); // A primed its cache (and the store) at login
    expect(await until(async () => (await admin.keys('idgate:s:*')).length > 0)).toBe(true);
    const res = await request(b.url).get('/api/me').set('Cookie', cookie).expect(200);
    expect(res.body.identity.email).toBe('demo@example.com');
    expect(mock.calls().profile).toBe(1);
  });

  it('the shared store holds personal data in clear text: no more, entries are keyed hashes sealed with AES-256-GCM', async () => {
    const cookie = await login(a);
    const id = cookie.split('=')[1]!.slice(0, 32);
    expect(await until(async () => (await admin.keys('idgate:s:*')).length > 1, 5_000)).toBe(true);
    const keys = await admin.keys('idgate:*');
    expect(keys.join(' ')).not.toContain(id);
    const dump = [];
    for (const k of keys.filter((k) => k.startsWith('idgate:s:'))) {
      const value = await admin.get(k);
      if (value === null) continue; // expired or logged out between KEYS and GET
      dump.push(value);
      expect(value).toMatch(/^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/);
      expect(await admin.pttl(k)).toBeGreaterThan(0);
    }
    // A dump shows no e-mail, name, attribute or id; B (same secret) still reads it.
    const text = dump.join('\n');
    for (const secret of [id, 'demo@example.com', 'Demo Customer', 'c_demo', 'plan', 'pro']) expect(text).not.toContain(secret);
    const res = await request(b.url).get('/api/me').set('Cookie', cookie).expect(200);
    expect(res.body.identity).toMatchObject({ email: 'demo@example.com', name: 'Demo Customer' });
  });

  it('a logout on A makes B reject the old cookie within 100 ms', async () => {
    const cookie = await login(a);
    await request(b.url).get('/api/me').set('Cookie', cookie).expect(200); // now in B's memory
    await request(a.url).post('/logout').set('Cookie', cookie).expect(200);
    await sleep(100);
    await request(b.url).get('/api/me').set('Cookie', cookie).expect(401);
    const c = await instance(); // never saw it: the tombstone answers
    await request(c.url).get('/api/me').set('Cookie', cookie).expect(401);
  });

  it('a lost invalidation message cannot keep a logged-out session alive (resync on reconnect)', async () => {
    const cookie = await login(a);
    await request(b.url).get('/api/me').set('Cookie', cookie).expect(200);
    await admin.client('KILL', 'TYPE', 'pubsub'); // every subscriber drops: the publish below is lost
    await request(a.url).post('/logout').set('Cookie', cookie).expect(200);
    const rejected = await until(async () => (await request(b.url).get('/api/me').set('Cookie', cookie)).status === 401, 3000);
    expect(rejected).toBe(true);
  });

  it('garbage in Redis degrades to the upstream, with an event', async () => {
    const cookie = await login(a);
    await until(async () => (await admin.keys('idgate:s:*')).length > 0);
    for (const k of await admin.keys('idgate:s:*')) await admin.set(k, '{not json', 'PX', 60_000);
    const c = await instance();
    const before = mock.calls().profile;
    await request(c.url).get('/api/me').set('Cookie', cookie).expect(200);
    expect(mock.calls().profile).toBe(before + 1);
    expect(events.some((e) => e.type === 'store-error' && e.operation === 'lookup')).toBe(true);
  });

  it('a slow Redis is a miss after the store timeout, not a hanging request', async () => {
    const cookie = await login(a);
    const c = await instance();
    expect(await until(async () => clients.at(-1)!.status === 'ready')).toBe(true);
    const blocker = connect();
    expect(await until(async () => blocker.status === 'ready')).toBe(true);
    const sleeping = blocker.call('DEBUG', 'SLEEP', '0.6').catch(() => {});
    await sleep(20);
    const res = await request(c.url).get('/api/me').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(events.some((e) => e.type === 'store-error' && /exceeded/.test(e.message))).toBe(true);
    await sleeping;
  });

  it('killing Redis mid-test leaves both instances serving', async () => {
    const cookie = await login(a);
    await request(b.url).get('/api/me').set('Cookie', cookie).expect(200);
    await redis.stop();
    await request(a.url).get('/api/me').set('Cookie', cookie).expect(200);
    await request(b.url).get('/api/me').set('Cookie', cookie).expect(200);
    const fresh = await login(a); // login still works without Redis
    await request(b.url).get('/api/me').set('Cookie', fresh).expect(200); // B asks the upstream instead
    const out = await request(a.url).post('/logout').set('Cookie', fresh);
    expect(out.status).toBe(200);
    await request(a.url).get('/api/me').set('Cookie', fresh).expect(401);
  });
});
