import { describe, expect, it } from 'vitest';
import { createBreaker } from './breaker.js';
import { UpstreamError } from './errors.js';

// Issue 13 item 5: the breaker counts outages only.
describe('the breaker counts outages only', () => {
  const fail = (err: unknown) => () => Promise.reject(err);

  it('definitive 4xx refusals (any body) never open it', async () => {
    const breaker = createBreaker({ threshold: 3, cooldown: 5_000 });
    const refusals = [
      new UpstreamError('UPSTREAM_BAD_RESPONSE', 'logout: upstream answered 404 with a body that is not JSON', { outage: false, upstreamStatus: 404 }),
      new UpstreamError('UPSTREAM_REFUSED', 'logout: upstream answered 409', { upstreamStatus: 409 }),
      new UpstreamError('UPSTREAM_REJECTED', 'profile: upstream refused our credentials', { upstreamStatus: 401 }),
    ];
    for (let i = 0; i < 10; i++) await expect(breaker.run(fail(refusals[i % 3]))).rejects.toBeInstanceOf(UpstreamError);
    expect(breaker.state()).toBe('closed');
    await expect(breaker.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('timeouts, network errors, 5xx, 429 and unreadable 2xx open it', async () => {
    for (const err of [
      new UpstreamError('UPSTREAM_TIMEOUT', 'timeout'),
      new UpstreamError('UPSTREAM_UNAVAILABLE', 'upstream answered 503', { upstreamStatus: 503 }),
      new UpstreamError('UPSTREAM_UNAVAILABLE', 'upstream answered 429', { upstreamStatus: 429 }),
      new UpstreamError('UPSTREAM_BAD_RESPONSE', 'upstream answered 200 with a body that is not JSON', { upstreamStatus: 200 }),
    ]) {
      const breaker = createBreaker({ threshold: 3, cooldown: 5_000 });
      for (let i = 0; i < 3; i++) await expect(breaker.run(fail(err))).rejects.toBe(err);
      expect(breaker.state()).toBe('open');
      await expect(breaker.run(() => Promise.resolve('ok'))).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    }
  });

  it('an error that is not an UpstreamError (a bug of ours) does not count', async () => {
    const breaker = createBreaker({ threshold: 1, cooldown: 5_000 });
    await expect(breaker.run(fail(new TypeError('x')))).rejects.toBeInstanceOf(TypeError);
    expect(breaker.state()).toBe('closed');
  });
});
