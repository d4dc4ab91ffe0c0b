import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { ConfigError } from './errors.js';

const key = 'PROD' + 'A'.repeat(28);

describe('resolveConfig', () => {
  it('reads IDGATE_* variables when called with no options', () => {
    const c = resolveConfig(undefined, { IDGATE_UPSTREAM_URL: 'http://127.0.0.1:4010', IDGATE_API_KEY: key, IDGATE_LOGIN_URL: '/signin' });
    expect(c.upstreamUrl).toBe('http://127.0.0.1:4010');
    expect(c.loginUrl).toBe('/signin');
    expect(c.cookie).toMatchObject({ name: 'identityId', sameSite: 'lax', maxAge: 86400 });
    expect(c.cache.ttl).toBe(60_000);
  });
  it('options win over the environment', () => {
    const c = resolveConfig({ loginUrl: '/in' }, { IDGATE_UPSTREAM_URL: 'http://a.example', IDGATE_API_KEY: key, IDGATE_LOGIN_URL: '/signin' });
    expect(c.loginUrl).toBe('/in');
  });
  it.each([
    [{}, /`upstreamUrl` is required/],
    [{ upstreamUrl: 'ftp://x', apiKey: key }, /`upstreamUrl`/],
    [{ upstreamUrl: 'http://x.example', apiKey: 'nope' }, /`apiKey` expected/],
    [{ upstreamUrl: 'http://x.example', apiKey: key, cookie: { sameSite: 'none' } }, /`cookie.sameSite`/],
    [{ upstreamUrl: 'http://x.example', apiKey: key, cache: { ttl: -1 } }, /`cache.ttl`/],
    [{ upstreamUrl: 'http://x.example', apiKey: key, loginUrl: 'https://evil.example' }, /`loginUrl`/],
    [{ upstreamUrl: 'http://x.example', apiKey: key, bogus: 1 }, /bogus/],
    [{ upstreamUrl: 'http://x.example', apiKey: 5 }, /`apiKey` (?!is required)/],
  ])('fails naming the field: %j', (options, message) => {
    expect(() => resolveConfig(options as never, {})).toThrow(ConfigError);
    expect(() => resolveConfig(options as never, {})).toThrow(message);
  });
  it('names the environment variable a bad value came from, without echoing it', () => {
    try {
      resolveConfig(undefined, { IDGATE_UPSTREAM_URL: 'http://a.example', IDGATE_API_KEY: 'PRODsecretbutwrong' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('IDGATE_API_KEY');
      expect((err as Error).message).not.toContain('PRODsecretbutwrong');
    }
  });
});
