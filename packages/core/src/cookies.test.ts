import { describe, expect, it } from 'vitest';
import { readCookie, sessionCookie, clearedCookie, cookieIsSecure } from './cookies.js';
import { resolveConfig } from './config.js';

const base = { upstreamUrl: 'http://127.0.0.1:1', apiKey: 'DEV_' + 'x'.repeat(28) };

describe('readCookie', () => {
  it.each([
    ['identityId=abc', 'abc'],
    ['a=1; identityId=abc; b=2', 'abc'],
    ['a=1;identityId=abc', 'abc'],
    ['a=1;\t identityId=abc', 'abc'],
    ['xidentityId=evil; identityId=good', 'good'],
    ['identityIdx=evil', undefined],
    ['identityId=first; identityId=second', 'first'],
    ['identityId = spaced ', 'spaced'],
    ['identityId\t=\ttabbed\t', 'tabbed'],
    ['identityId="quoted"', 'quoted'],
    ['identityId=""', ''],
    ['identityId="', ''],
    ['identityId="half', '"half'],
    ['identityId=', ''],
    ['', undefined],
    ['a=identityId=abc', undefined],
    ['=identityId=abc', undefined],
    ['identityId', undefined],
    ['identityId; x=1', undefined],
    ['identityId x=1; identityId=good', 'good'],
    ['identityId=a=b', 'a=b'],
    ['identityId=a%20b', 'a b'],
    ['identityId=%E0%A4%A', '%E0%A4%A'],
    ['identityId=\u00a0nbsp\u00a0', '\u00a0nbsp\u00a0'],
    [';identityId=lead;', 'lead'],
  ])('%j', (header, value) => expect(readCookie(header, 'identityId')).toBe(value));
  // Spaces, tabs, quotes and percent-encoding next to the name or the value, and a first occurrence that starts no pair.
  it.each([
    ['a=1; identityId= lead', 'lead'],
    ['a=1; identityId=\ttab', 'tab'],
    ['a=1; identityId=trail ; b=2', 'trail'],
    ['a=1; identityId=trail\t', 'trail'],
    ['identityId="q"; b=2', 'q'],
    ['a=1;  identityId=two-spaces', 'two-spaces'],
    ['a=1;\tidentityId=tab-before', 'tab-before'],
    [' identityId=leading-space', 'leading-space'],
    ['identityId=%41; b=2', 'A'],
    ['identityId =late-eq', 'late-eq'],
    ['x; identityId=after-bare-name', 'after-bare-name'],
    ['identityId=;', ''],
    ['pref=x identityId=no; identityId=yes', 'yes'],
    ['a=b identityId=no', undefined],
  ])('around the name and the value: %j', (header, value) => expect(readCookie(header, 'identityId')).toBe(value));
  // issue 12, finding 2: a name inside another cookie's value is not a cookie.
  it.each([
    ['pref=dark identityId=attacker; identityId=victim', 'victim'],
    ['pref=dark\tidentityId=attacker; identityId=victim', 'victim'],
    ['pref="dark identityId=attacker"; identityId=victim', 'victim'],
    ['pref=dark identityId=attacker', undefined],
    ['pref=a,identityId=attacker; identityId=victim', 'victim'],
  ])('cookie smuggled inside a value: %j', (header, value) => expect(readCookie(header, 'identityId')).toBe(value));
  it('the __Host- name is matched exactly', () => {
    const h = '__host-identityId=a; __Host-identityid=b; pref=x __Host-identityId=c; __Host-identityId=d';
    expect(readCookie(h, '__Host-identityId')).toBe('d');
    expect(readCookie(h, 'identityId')).toBeUndefined();
  });
  it('never throws on hostile input', () => {
    for (const h of ['identityId', 'identityId=', ';;;;', '\u0000identityId=\uD800', 'identityId='.repeat(1000), 'identityId=%', 'identityId=%uD800']) {
      expect(() => readCookie(h, 'identityId')).not.toThrow();
    }
    expect(readCookie('a=1', '')).toBeUndefined();
  });
});

describe('cookie attributes', () => {
  it('set and clear share attributes', () => {
    const config = resolveConfig({ ...base, cookie: { sameSite: 'strict', maxAge: 60 } }, {});
    expect(sessionCookie(config, 'X', true)).toBe('identityId=X; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
    expect(clearedCookie(config, true)).toBe('identityId=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });
  it('__Host- prefix forces Secure', () => {
    const config = resolveConfig({ ...base, cookie: { hostPrefix: true } }, {});
    expect(config.cookieName).toBe('__Host-identityId');
    expect(cookieIsSecure(config, { protocol: 'http', headers: { host: 'localhost:3000' } })).toBe(true);
  });
  it('auto: off only on plain-http localhost outside production', () => {
    const dev = resolveConfig(base, {});
    expect(cookieIsSecure(dev, { protocol: 'http', headers: { host: 'localhost:3000' } })).toBe(false);
    expect(cookieIsSecure(dev, { protocol: 'http', headers: { host: '127.0.0.1:3000' } })).toBe(false);
    expect(cookieIsSecure(dev, { protocol: 'http', headers: { host: 'shop.example' } })).toBe(true);
    expect(cookieIsSecure(dev, { protocol: 'https', headers: { host: 'localhost' } })).toBe(true);
    const prod = resolveConfig({ ...base, secret: 'a-production-secret-0123456789' }, { NODE_ENV: 'production' });
    expect(cookieIsSecure(prod, { protocol: 'http', headers: { host: 'localhost:3000' } })).toBe(true);
  });
});
