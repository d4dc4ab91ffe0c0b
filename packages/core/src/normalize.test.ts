import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isIdentityId, normalizeEmail, normalizeIp } from './normalize.js';
import { RequestError } from './errors.js';

describe('normalizeIp (seed 001)', () => {
  it.each([
    ['::1', '127.0.0.1'], ['0.0.0.0', '127.0.0.1'], ['localhost', '127.0.0.1'], ['', '127.0.0.1'], [undefined, '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'], ['1.1.1.1', '1.1.1.1'], ['2001:4860:4860::8888', '2001:4860:4860::8888'], [' 8.8.8.8 ', '8.8.8.8'],
  ])('%j -> %j', (input, out) => expect(normalizeIp(input)).toBe(out));

  it.each(['not-an-ip', '999.1.1.1', '1.1.1', '::ffff:999.0.0.1', 'http://1.1.1.1', '1.1.1.1; DROP'])('rejects %j before any call', (input) => {
    expect(() => normalizeIp(input)).toThrow(RequestError);
  });

  it('property: any IPv4 round-trips, and its mapped form unwraps to it', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      const expected = ip === '0.0.0.0' ? '127.0.0.1' : ip;
      expect(normalizeIp(ip)).toBe(expected);
      expect(normalizeIp(`::ffff:${ip}`)).toBe(expected);
    }));
  });
});

describe('normalizeEmail', () => {
  it('trims and lowercases', () => expect(normalizeEmail('  Jan@Barasek.COM ')).toBe('jan@barasek.com'));
  it.each(['', 'a', 'a@b', '@b.co', 'a b@c.co', 'a@b..co', 42, null])('rejects %j', (v) => expect(() => normalizeEmail(v)).toThrow(RequestError));
  it('property: idempotent on what it accepts', () => {
    fc.assert(fc.property(fc.emailAddress(), (email) => {
      let once: string;
      try { once = normalizeEmail(email); } catch { return; }
      expect(normalizeEmail(once)).toBe(once);
      expect(once).toBe(once.toLowerCase());
    }));
  });
});

describe('isIdentityId', () => {
  it('accepts 32 alphanumerics only', () => {
    expect(isIdentityId('Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvdg')).toBe(true);
    expect(isIdentityId('Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvd')).toBe(false);
    expect(isIdentityId('Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvd!')).toBe(false);
    expect(isIdentityId('Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvdgg')).toBe(false);
  });
  it('property: exactly the strings of 32 [A-Za-z0-9]', () => {
    fc.assert(fc.property(fc.string({ minLength: 0, maxLength: 40 }), (s) => isIdentityId(s) === /^[A-Za-z0-9]{32}$/.test(s)));
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9]{32}$/), (s) => isIdentityId(s)));
  });
});
