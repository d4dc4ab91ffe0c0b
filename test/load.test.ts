// A bounded loopback load against every adapter with a slow, flaky upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import autocannon from 'autocannon';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';

describe.each(adapters)('$name under load with a slow, flaky upstream', (adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    app = await adapter.start({
      idgate: optionsFor(mock, {
        // Short entries so the load keeps re-verifying against the slow upstream.
        cache: { ttl: 1_000, refreshAhead: 0.5, staleIfError: 60_000 },
        upstream: { timeout: 1_000, totalTimeout: 3_000, retries: 2, backoffBase: 20, backoffMax: 100 },
      }),
    });
  });
  afterAll(async () => {
    await app.close();
    await mock.close();
  });

  it('clients see no errors beyond the stale-window rules; upstream calls stay bounded', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => upstreamLogin(mock)));
    mock.reset({ only: 'calls' });
    mock.fault([
      { route: 'profile', status: 500, body: { error: 'flaky' }, probability: 0.05 },
      { route: 'profile', latencyMs: 200 },
    ]);
    let i = 0;
    const result = await autocannon({
      url: `${app.url}/api/me`,
      connections: 20,
      amount: 3_000, // bounded in count...
      duration: 15, // ...and in time
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: `identityId=${ids[i++ % ids.length]}` } }) }],
    });
    mock.clearFaults();
    const calls = mock.calls().profile;
    console.info(`${adapter.name}: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts, ${calls} upstream profile calls, p99 ${result.latency.p99} ms`);
    expect(result.requests.total).toBeGreaterThanOrEqual(3_000);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0); // every failure fell inside the stale window
    expect(calls).toBeGreaterThanOrEqual(20); // the cache was really refreshing
    expect(calls).toBeLessThan(result.requests.total / 5); // single-flight + cache kept the upstream load small
  }, 30_000);
});
