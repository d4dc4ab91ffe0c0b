// Cache pressure and Retry-After handling against the real mock upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createIdgate, createMetrics, parseRetryAfter, requestJson, sessionKeys, signSession, UpstreamError } from '@idgate/core/adapter';
import { expressAdapter } from './adapters/express.js';
import type { RunningApp } from './adapters/types.js';
import { randomId, TEST_SECRET, captureLogger, optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';

// A cookie idgate signed for an id the upstream does not know (a session it forgot): the worst a cookie can cost.
const signedRandom = () => signSession(sessionKeys([TEST_SECRET]), randomId(), Date.now());

describe('cache pressure and upstream answers', () => {
  let mock: MockUpstream;
  const apps: RunningApp[] = [];
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
  });

  it('a spray of random well-formed ids does not evict active users', async () => {
    const app = await expressAdapter.start({ idgate: optionsFor(mock, { cache: { max: 20, negativeMax: 5_000 } }) });
    apps.push(app);
    const active = await Promise.all(Array.from({ length: 10 }, () => upstreamLogin(mock)));
    for (const id of active) await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    mock.reset({ only: 'calls' });
    // Unsigned ids cost nothing at all.
    for (let i = 0; i < 200; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => request(app.url).get('/api/me').set('Cookie', `identityId=${randomId()}`).expect(401)));
    }
    expect(mock.calls().profile ?? 0).toBe(0);
    const spray = Array.from({ length: 400 }, signedRandom);
    for (let i = 0; i < spray.length; i += 50) {
      await Promise.all(spray.slice(i, i + 50).map((id) => request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401)));
    }
    expect(mock.calls().profile).toBe(400);
    for (const id of active) await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(200);
    expect(mock.calls().profile).toBe(400); // every active user was still a hit
    for (const id of spray.slice(0, 50)) await request(app.url).get('/api/me').set('Cookie', `identityId=${id}`).expect(401);
    expect(mock.calls().profile).toBe(400); // and the spray is negative-cached
  });

  it('parses Retry-After as seconds or an HTTP date, ignoring negative and unreadable values', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it.each([
    ['seconds', 'waits', '1'],
    ['an HTTP date', 'waits', () => new Date(Date.now() + 1500).toUTCString()],
    ['negative', 'backs off', '-3'],
    ['absurd', 'gives up', '86400'],
  ] as const)('Retry-After as %s: %s within the cap', async (_label, outcome, header) => {
    mock.clearFaults();
    mock.reset({ only: 'calls' });
    const value = typeof header === 'function' ? header() : header;
    mock.fault({ route: 'profile', status: 429, headers: { 'Retry-After': value }, body: {}, times: 1 });
    const policy = { timeout: 500, totalTimeout: 4_000, retries: 2, backoffBase: 10, backoffMax: 20, retryAfterMax: 3_000, maxBodyBytes: 65_536 };
    const started = Date.now();
    const call = requestJson(`${mock.url}/api/v1/contact/profile`, policy, { label: 'profile', body: { apiKey: `DEV_${'a'.repeat(28)}`, identityId: 'x'.repeat(32) }, headers: { authorization: `Bearer DEV_${'a'.repeat(28)}` } });
    if (outcome === 'gives up') {
      const err = await call.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).retryAfter).toBe(86400);
      expect(mock.calls().profile).toBe(1);
      return;
    }
    const res = await call;
    expect(res.status).toBe(401); // the mock's real answer after the retry
    expect(mock.calls().profile).toBe(2);
    const waited = Date.now() - started;
    if (outcome === 'waits') expect(waited).toBeGreaterThanOrEqual(900);
    else expect(waited).toBeLessThan(900);
  });

  it('events feed the metrics helper; logs carry hashes, never the identityId', async () => {
    const metrics = createMetrics();
    const logger = captureLogger();
    const gate = createIdgate(optionsFor(mock, { onEvent: metrics.onEvent, logger }));
    const id = await upstreamLogin(mock);
    await gate.authenticate({ headers: { cookie: `identityId=${id}` } });
    gate.authenticate({ headers: { cookie: `identityId=${id}` } });
    mock.fault({ route: 'profile', status: 500, body: { apiKey: 'leak' }, times: 5 });
    await gate.authenticate({ headers: { cookie: `identityId=${signedRandom()}` } });
    const counts = metrics.counters();
    expect(counts['cache-miss']).toBe(2);
    expect(counts['cache-hit']).toBe(1);
    expect(counts.verified).toBe(1);
    expect(counts['upstream-error']).toBe(1);
    expect(metrics.latency().count).toBe(1);
    const text = metrics.prometheus();
    expect(text).toMatch(/idgate_events_total\{type="verified"\} 1/);
    expect(text).toMatch(/idgate_upstream_verify_ms_count 1/);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).not.toContain(id.slice(0, 32));
  });
});
