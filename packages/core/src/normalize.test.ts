import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalEmail, isIdentityId, normalizeEmail, normalizeIp } from './normalize.js';
import { RequestError } from './errors.js';

describe('normalizeIp (login API)', () => {
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

describe('one e-mail rule (issue 12 item 7)', () => {
  it.each([
    ['é@example.com', 'é@example.com'],
    ['Jörg@Example.COM', 'jörg@example.com'],
    ['用户@例子.广告', '用户@xn--fsqu00a.xn--4rr70v'],
    ['ada+tag@bücher.de', 'ada+tag@xn--bcher-kva.de'],
    ["o'brien.x-y_z@sub.example.co.uk", "o'brien.x-y_z@sub.example.co.uk"],
    ['e\u0301@example.com', 'é@example.com'],
  ])('accepts %j as %j', (input, out) => expect(canonicalEmail(input)).toBe(out));

  it.each([
    'a(b@example.com', 'x@exa_mple.com', '"a b"@example.com', 'a..b@example.com', '.a@example.com', 'a.@example.com',
    'x@example', 'x@1.2.3.4', 'x@-example.com', 'x@example-.com', 'x@example.com.', 'x@ex%61mple.com', 'x@[127.0.0.1]',
    'a@b@example.com', '💥@example.com', 'a\u200b@example.com', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(64)}.com`,
  ])('refuses %j: 400 BAD_REQUEST with a clear message', (input) => {
    expect(canonicalEmail(input)).toBeNull();
    expect(() => normalizeEmail(input)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', status: 400, message: 'Enter a valid e-mail address.' }));
  });

  // Found by test/email-boundary.test.ts: lowercasing undid NFC, so an account registered as
  // `T\u0308om@…` (canonical `t\u0308om@…`) could never sign in at an upstream that normalizes again.
  it.each([
    ['T\u0308om@example.com', '\u1e97om@example.com'],
    ['Y\u030a@example.com', '\u1e99@example.com'],
    ['J\u030c@example.com', '\u01f0@example.com'],
    ['\u0391\u0342@example.com', '\u1fb6@example.com'],
    ['\u1fbc\u0301@example.com', '\u1fb4@example.com'],
  ])('lowercasing cannot leave %j outside NFC: %j', (input, out) => {
    expect(canonicalEmail(input)).toBe(out);
    expect(canonicalEmail(out)).toBe(out);
  });

  it('property: canonical forms are NFC fixed points, for capitals whose lowercase composes with a mark too', () => {
    const odd = fc.constantFrom('T', 'W', 'Y', 'J', 'H', '\u0130', '\u0391', '\u0397', '\u03a9', '\u1fbc', 'a', '\u0308', '\u030a', '\u030c', '\u0331', '\u0327', '\u0342', '\u0345', '\u0301');
    fc.assert(fc.property(fc.string({ unit: odd, minLength: 1, maxLength: 6 }), (local) => {
      const once = canonicalEmail(`${local}@example.com`);
      if (once !== null) {
        expect(once).toBe(once.normalize('NFC'));
        expect(canonicalEmail(once)).toBe(once);
      }
    }), { numRuns: 2_000 });
  });

  it('property: canonical forms are fixed points', () => {
    fc.assert(fc.property(fc.oneof(fc.emailAddress(), fc.string()), (email) => {
      const once = canonicalEmail(email);
      if (once !== null) expect(canonicalEmail(once)).toBe(once);
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
