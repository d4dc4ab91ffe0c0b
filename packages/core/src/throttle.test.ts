import { describe, expect, it } from 'vitest';
import { resolveConfig, type IdgateOptions } from './config.js';
import { LoginError, LoginThrottledError, UpstreamError } from './errors.js';
import type { IdgateEvent } from './events.js';
import type { AttemptTake, CacheStore } from './store.js';
import { createLoginThrottle, ipBucket, throttleKey } from './throttle.js';
import { loginErrorFor } from './upstream.js';

const API_KEY = 'DEV_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4';
const MIN = 60_000;

function setup(extra: Partial<IdgateOptions> = {}) {
  const clock = { t: 1_000_000 };
  const events: IdgateEvent[] = [];
  const config = resolveConfig({ upstreamUrl: 'http://127.0.0.1:1', apiKey: API_KEY, secret: 'x'.repeat(32), now: () => clock.t, ...extra }, {});
  return { clock, events, throttle: createLoginThrottle(config, (e) => events.push(e)) };
}

async function refusal(p: Promise<unknown>): Promise<LoginThrottledError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LoginThrottledError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const wrong = () => loginErrorFor('E004');

describe('login throttle', () => {
  it('refuses the e-mail after perEmail failures, with the seconds until the oldest ages out', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 5; i++) {
      await (await throttle.begin('Jan@Example.com', '10.0.0.1')).failed(wrong());
      clock.t += MIN;
    }
    const err = await refusal(throttle.begin(' jan@example.COM', '10.0.0.2'));
    expect([err.status, err.code, err.reason, err.retryAfter]).toEqual([429, 'TOO_MANY_ATTEMPTS', 'email', 10 * 60]);
    expect(err.key).toBe(throttleKey('x'.repeat(32), 'email', 'jan@example.com'));
    expect(err.upstreamCode).toBeUndefined();
    clock.t += 10 * MIN; // the first failure is now 15 min old
    await (await throttle.begin('jan@example.com', '10.0.0.1')).failed(wrong());
    expect((await refusal(throttle.begin('jan@example.com', '10.0.0.1'))).retryAfter).toBe(60);
  });

  it('counts concurrent attempts before their outcome: N in flight, the next one refused', async () => {
    const { throttle } = setup();
    const inFlight = await Promise.all(Array.from({ length: 5 }, () => throttle.begin('a@example.com', '10.0.0.1')));
    await refusal(throttle.begin('a@example.com', '10.0.0.1'));
    // No definitive answer: they are taken back.
    for (const a of inFlight) await a.failed(new UpstreamError('UPSTREAM_UNAVAILABLE', 'down'));
    await throttle.begin('a@example.com', '10.0.0.1');
  });

  it('success clears the e-mail and gives the IP its attempt back; settling twice changes nothing', async () => {
    const { throttle } = setup({ loginThrottle: { perEmail: 2, perIp: 3 } });
    await (await throttle.begin('a@example.com', '10.0.0.1')).failed(wrong());
    const ok = await throttle.begin('a@example.com', '10.0.0.1');
    await ok.succeeded();
    await ok.failed(wrong());
    await (await throttle.begin('a@example.com', '10.0.0.1')).failed(wrong());
    await (await throttle.begin('b@example.com', '10.0.0.1')).failed(wrong());
    // IP: three failures (a, a, b), none taken back by the success.
    expect((await refusal(throttle.begin('c@example.com', '10.0.0.1'))).reason).toBe('ip');
  });

  it('the per-IP limit counts an IPv6 /64 as one client and leaves other IPs alone', async () => {
    const { throttle } = setup({ loginThrottle: { perIp: 2 } });
    await (await throttle.begin('a@example.com', '2001:db8:1:2::1')).failed(wrong());
    await (await throttle.begin('b@example.com', '2001:db8:1:2:ffff::9')).failed(wrong());
    expect((await refusal(throttle.begin('c@example.com', '2001:db8:1:2:abcd:1:2:3'))).reason).toBe('ip');
    await throttle.begin('c@example.com', '2001:db8:1:3::1');
    await throttle.begin('c@example.com', '10.0.0.1');
  });

  it("the upstream's E006 locks the e-mail and comes back as the limiter's own answer", async () => {
    const { clock, throttle } = setup();
    const attempt = await throttle.begin('x@example.com', '10.0.0.1');
    const answer = await attempt.failed(loginErrorFor('E006', 600));
    expect(answer).toBeInstanceOf(LoginThrottledError);
    expect(answer).toMatchObject({ status: 429, code: 'TOO_MANY_ATTEMPTS', retryAfter: 600, reason: 'email', fromUpstream: true, upstreamCode: undefined });
    clock.t += 5 * MIN;
    expect((await refusal(throttle.begin('x@example.com', '10.0.0.2'))).retryAfter).toBe(300);
    clock.t += 5 * MIN;
    await throttle.begin('x@example.com', '10.0.0.2');
  });

  it('a definitive refusal of any kind counts; a bad request throws before anything is counted', async () => {
    const { throttle } = setup({ loginThrottle: { perEmail: 1 } });
    await (await throttle.begin('a@example.com', undefined)).failed(new LoginError('ACCOUNT_BANNED', 'banned', { status: 403, upstreamCode: 'E005' }));
    await refusal(throttle.begin('a@example.com', undefined));
    await expect(throttle.begin('not-an-email', '10.0.0.1')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(throttle.begin('b@example.com', 'not-an-ip')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('memory is bounded: at most max e-mails and max IPs, least recently used evicted', async () => {
    const { throttle } = setup({ loginThrottle: { max: 50, perIp: false } });
    for (let i = 0; i < 200; i++) await (await throttle.begin(`u${i}@example.com`, '10.0.0.1')).failed(wrong());
    expect(throttle.sizes()).toEqual({ email: 50, ip: 0 });
  });

  it('loginThrottle: false never refuses', async () => {
    const { throttle } = setup({ loginThrottle: false });
    for (let i = 0; i < 50; i++) await (await throttle.begin('a@example.com', '10.0.0.1')).failed(wrong());
  });

  describe('with a shared store', () => {
    // An in-process stand-in with the store's contract; @idgate/redis runs the same against Redis in test/.
    function fakeStore() {
      const sets = new Map<string, Array<{ at: number; token: string }>>();
      const locks = new Map<string, number>();
      const calls: string[] = [];
      let t = 0;
      let down = false;
      const store: CacheStore & { advance(ms: number): void; fail(on: boolean): void; calls: string[]; keys(): string[] } = {
        lookup: async () => ({ kind: 'miss' }),
        set: async () => {},
        invalidate: async () => {},
        async takeAttempt(key, token, limit, windowMs): Promise<AttemptTake> {
          calls.push(key);
          if (down) throw new Error('store down');
          const list = (sets.get(key) ?? []).filter((e) => t - e.at < windowMs);
          let wait = (locks.get(key) ?? 0) - t;
          if (list.length >= limit) wait = Math.max(wait, list[list.length - limit]!.at + windowMs - t);
          if (wait > 0) return { ok: false, retryAfterMs: wait };
          list.push({ at: t, token });
          sets.set(key, list);
          return { ok: true, token };
        },
        async returnAttempt(key, token) {
          if (down) throw new Error('store down');
          sets.set(key, (sets.get(key) ?? []).filter((e) => e.token !== token));
        },
        async lockAttempts(key, ms) {
          if (down) throw new Error('store down');
          locks.set(key, Math.max(locks.get(key) ?? 0, t + ms));
        },
        async clearAttempts(key) {
          if (down) throw new Error('store down');
          sets.delete(key);
          locks.delete(key);
        },
        advance: (ms) => void (t += ms),
        fail: (on) => void (down = on),
        calls,
        keys: () => [...sets.keys(), ...locks.keys()],
      };
      return store;
    }

    it('two instances share the count: failures on A refuse the e-mail on B', async () => {
      const store = fakeStore();
      const a = setup({ store, loginThrottle: { perEmail: 3 } }).throttle;
      const b = setup({ store, loginThrottle: { perEmail: 3 } }).throttle;
      for (let i = 0; i < 3; i++) await (await a.begin('a@example.com', `10.0.0.${i}`)).failed(wrong());
      expect((await refusal(b.begin('a@example.com', '10.0.1.1'))).reason).toBe('email');
      // The store only ever sees keyed hashes.
      expect(store.keys().join()).not.toMatch(/@|10\.0\./);
    });

    it('E006 on A locks the e-mail on B', async () => {
      const store = fakeStore();
      const a = setup({ store }).throttle;
      const b = setup({ store }).throttle;
      await (await a.begin('a@example.com', '10.0.0.1')).failed(loginErrorFor('E006', 60));
      expect((await refusal(b.begin('a@example.com', '10.0.0.2'))).retryAfter).toBe(60);
    });

    it('a failing store falls back to memory and reports a store-error, never failing the login', async () => {
      const store = fakeStore();
      const { throttle, events } = setup({ store, loginThrottle: { perEmail: 2 } });
      store.fail(true);
      const attempt = await throttle.begin('a@example.com', '10.0.0.1');
      await attempt.failed(wrong());
      await (await throttle.begin('a@example.com', '10.0.0.1')).failed(wrong());
      await refusal(throttle.begin('a@example.com', '10.0.0.1'));
      expect(events.filter((e) => e.type === 'store-error').length).toBeGreaterThan(0);
      expect(JSON.stringify(events)).not.toMatch(/a@example|10\.0\.0\.1/);
    });
  });
});

describe('ipBucket', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::1', '127.0.0.1'],
    [undefined, '127.0.0.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%j -> %j', (ip, bucket) => {
    expect(ipBucket(ip)).toBe(bucket);
  });
});
