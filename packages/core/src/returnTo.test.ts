import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { safeReturnTo } from './returnTo.js';

describe('safeReturnTo', () => {
  it.each(['/', '/account', '/account?tab=1&x=%20y', '/a/b/c#frag', '/search?q=%2Fnot-a-redirect'])('keeps %j', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    '//evil.example', '/\\evil.example', '\\\\evil.example', 'https://evil.example', 'https:evil.example',
    '/%2F%2Fevil.example', '%2F%2Fevil.example', '/%5Cevil.example', '/%252F%252Fevil.example', '/%2f/evil',
    '/\t/evil.example', '/ok\r\nSet-Cookie: a=1', '/ok\nx', 'javascript:alert(1)', '/\u2215\u2215evil', '\uFF0F\uFF0Fevil',
    '/x'.repeat(2000), '', 'relative/path', '/%E0%A4%A', '/ /evil', '/%09/evil.example', '/%0d%0aSet-Cookie:x',
  ])('drops %j', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });

  it('drops non-strings and uses the fallback', () => {
    expect(safeReturnTo(undefined, '/home')).toBe('/home');
    expect(safeReturnTo(['/a'])).toBe('/');
  });

  it('property: whatever it returns is a same-origin path', () => {
    const base = 'https://shop.example';
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webPath(), fc.webUrl(), fc.string({ unit: 'binary' })), (input) => {
        const out = safeReturnTo(input);
        const resolved = new URL(out, base);
        expect(resolved.origin).toBe(base);
        expect(out.startsWith('/')).toBe(true);
        expect(out).not.toMatch(/[\x00-\x20\x7f\\]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a path of safe characters is kept', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z0-9_\-.~]{1,40}(\/[a-z0-9_\-.~]{1,20}){0,4}$/), (path) => {
        expect(safeReturnTo(path)).toBe(path);
      }),
    );
  });
});
