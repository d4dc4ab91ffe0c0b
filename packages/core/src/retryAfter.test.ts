import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clientRetryAfter, parseRetryAfter, RETRY_AFTER_PARSE_MAX } from './http.js';

// Issue 12 item 5: Retry-After capped. What a client is told is an integer in [1, cap].
describe('Retry-After capped', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('parseRetryAfter never yields Infinity or NaN: a 401-digit value or a date in 9999 is the finite maximum', () => {
    expect(parseRetryAfter('9'.repeat(401), now)).toBe(RETRY_AFTER_PARSE_MAX);
    expect(parseRetryAfter('99999999999', now)).toBe(RETRY_AFTER_PARSE_MAX);
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(RETRY_AFTER_PARSE_MAX);
    expect(parseRetryAfter('000000000000000000000000000007', now)).toBe(7);
    for (const bad of ['-5', '+5', '1.5', '1e9', 'soon', '', '   ', 'NaN', 'Infinity']) expect(parseRetryAfter(bad, now)).toBeUndefined();
  });

  it('property: parseRetryAfter is undefined or a finite integer in [0, 1e9], whatever the header', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{1,500}$/), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())), (header) => {
      const v = parseRetryAfter(header, now);
      if (v === undefined) return;
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(RETRY_AFTER_PARSE_MAX);
    }));
  });

  it.each([
    [99999999999, 3600], [Infinity, 5], [NaN, 5], [-3, 5], [0, 5], [undefined, 5], [0.2, 1], [7.1, 8], [3600, 3600], [3601, 3600],
  ])('clientRetryAfter(%s) with cap 3600 and fallback 5 is %s', (input, out) => {
    expect(clientRetryAfter(input as number | undefined, 3600, 5)).toBe(out);
  });

  it('property: clientRetryAfter is an integer in [1, cap] for any input, cap and fallback', () => {
    fc.assert(fc.property(fc.option(fc.double()), fc.integer({ min: 1, max: 100_000 }), fc.option(fc.double()), (seconds, cap, fallback) => {
      const v = clientRetryAfter(seconds ?? undefined, cap, fallback ?? undefined);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(cap);
    }));
  });
});
