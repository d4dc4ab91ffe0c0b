// Cross-instance single-flight on a real redis-server: N instances that miss
// the same session at once cost the upstream one verification; a holder that
// dies leaves the others waiting no longer than `cache.lease.wait`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { identityKey, type IdgateEvent, type IdgateOptions } from '@idgate/core/adapter';
import { redisStore, type RedisStore } from '@idgate/redis';
import { expressAdapter } from './adapters/express.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, rawOf, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';
import { redisClient, startRedis, type RedisServer } from './redis-server.js';

const SECRET = 'single-flight-shared-secret-0123456789';

describe('cross-instance single-flight on one redis-server', () => {
  let mock: MockUpstream;
  let redis: RedisServer;
  let admin: Redis;
  let probe: RedisStore;
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];
  const apps: RunningApp[] = [];
  const events: IdgateEvent[] = [];

  const connect = async () => {
    const c = redisClient(redis.url, clients);
    if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
    return c;
  };
  const instance = async (extra: Partial<IdgateOptions> = {}) => {
    const store = redisStore({ client: await connect(), timeout: 500 });
    stores.push(store);
    const app = await expressAdapter.start({ idgate: optionsFor(mock, { store, secret: SECRET, onEvent: (e) => events.push(e), ...extra }) });
    apps.push(app);
    return app;
  };
  const session = async () => `identityId=${await upstreamLogin(mock, 'demo@example.com', 'demo-password', SECRET)}`;
  const keyOf = (cookie: string) => identityKey(SECRET, rawOf(cookie.slice('identityId='.length)));
  const me = (app: RunningApp, cookie: string) => request(app.url).get('/api/me').set('Cookie', cookie);

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    redis = await startRedis();
    admin = await connect();
    probe = redisStore({ client: admin, timeout: 500 });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(stores.map((s) => s.close()));
    clients.forEach((c) => c.disconnect());
    await redis.stop();
    await mock.close();
  });
  beforeEach(() => {
    mock.reset();
    events.length = 0;
  });

  it('6 instances missing one cold session at once make 1 upstream verification', async () => {
    const fleet = await Promise.all(Array.from({ length: 6 }, () => instance()));
    for (let round = 0; round < 5; round++) {
      const cookie = await session();
      const before = mock.calls().profile ?? 0;
      // The verification takes 80 ms: every instance misses while it runs.
      mock.fault({ route: 'profile', latencyMs: 80, times: 1 });
      const answers = await Promise.all(fleet.flatMap((app) => [me(app, cookie), me(app, cookie)]));
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(answers.every((r) => r.body.identity.email === 'demo@example.com')).toBe(true);
      expect((mock.calls().profile ?? 0) - before).toBe(1);
    }
    expect(events.filter((e) => e.type === 'store-hit').length).toBe(5 * 5); // the 5 others, each round
  });

  it('a holder that died mid-lease: the others ask the upstream themselves after lease.wait', async () => {
    const b = await instance({ cache: { lease: { ttl: 60_000, wait: 300 } } });
    const cookie = await session();
    // What a crashed instance leaves behind: a lease it will never give back, and no entry.
    expect(await probe.claim!(keyOf(cookie), 'crashed-instance', 60_000)).toEqual({ kind: 'claimed' });
    const res = await me(b, cookie);
    expect(res.status).toBe(200);
    expect(mock.calls().profile).toBe(1);
    expect(events.some((e) => e.type === 'lease-wait-expired')).toBe(true);
  });

  it('a lease that expires (its holder died) is taken over at once, before lease.wait', async () => {
    const b = await instance({ cache: { lease: { ttl: 5_000, wait: 60_000 } } });
    const cookie = await session();
    expect(await probe.claim!(keyOf(cookie), 'crashed-instance', 200)).toEqual({ kind: 'claimed' });
    const res = await me(b, cookie);
    expect(res.status).toBe(200);
    expect(mock.calls().profile).toBe(1);
    expect(events.some((e) => e.type === 'lease-wait-expired')).toBe(false); // taken over, not timed out
  });

  it('a holder whose verification fails gives the lease back: the next instance asks', async () => {
    const [a, b] = [await instance(), await instance()];
    const cookie = await session();
    mock.fault({ route: 'profile', latencyMs: 60, status: 503, times: 3 }); // A's call and its 2 retries
    const [ra, rb] = await Promise.all([me(a, cookie), (async () => (await sleep(10), me(b, cookie)))()]);
    expect(ra.status).toBe(503);
    expect(rb.status).toBe(200); // B waited, found no entry and a free lease, and asked itself
    expect(events.some((e) => e.type === 'lease-wait-expired')).toBe(false);
  });

  it('refresh-ahead across instances: one upstream call per refresh window, not one per instance', async () => {
    const cache = { ttl: 2_000, refreshAhead: 0.5 };
    const fleet = await Promise.all(Array.from({ length: 4 }, () => instance({ cache })));
    const cookie = await session();
    await Promise.all(fleet.map((app) => me(app, cookie).expect(200)));
    expect(mock.calls().profile).toBe(1);
    await sleep(1_100); // past the refresh point (1 s), within the ttl (2 s)
    // The first hit refreshes in the background; the others find its newer entry.
    await me(fleet[0]!, cookie).expect(200);
    expect(await until(async () => mock.calls().profile === 2)).toBe(true);
    await sleep(50); // the refreshed entry is written
    for (const app of fleet.slice(1)) await me(app, cookie).expect(200);
    await sleep(200); // let background refreshes (there should be none) run
    expect(mock.calls().profile).toBe(2);
    expect(events.filter((e) => e.type === 'store-hit').length).toBeGreaterThanOrEqual(3 + 3);
  });

  it('a tombstone written before the hash-tag layout still counts after an upgrade', async () => {
    const b = await instance();
    const cookie = await session();
    await admin.set(`idgate:t:${keyOf(cookie)}`, '1', 'PX', 60_000); // the pre-cluster layout
    await me(b, cookie).expect(401);
    expect(await probe.lookup(keyOf(cookie))).toEqual({ kind: 'invalidated' });
    expect(mock.calls().profile ?? 0).toBe(0);
  });
});

async function until(check: () => Promise<boolean>, ms = 2_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}
