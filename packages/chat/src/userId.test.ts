import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatUserId, USER_ID_PATTERN } from './userId.js';

describe('chatUserId', () => {
  it('keeps an id that fits Bookbag’s pattern', () => {
    for (const id of ['c_demo', 'user_8821', 'A.b-c_9', 'x'.repeat(128)]) expect(chatUserId(id)).toBe(id);
  });
  it('hashes anything else to a stable u_ id, never the raw value', () => {
    for (const id of ['ada@example.com', 'a b', 'x'.repeat(129), '', '.', '..', '...', 'ü', '../admin']) {
      const hashed = chatUserId(id);
      expect(hashed).toMatch(/^u_[A-Za-z0-9_-]{32}$/);
      expect(hashed).toBe(chatUserId(id));
      if (id.length > 3) expect(hashed).not.toContain(id);
    }
    expect(chatUserId('ada@example.com')).not.toBe(chatUserId('bob@example.com'));
  });
  it('with a secret, an HMAC: different from the plain hash and from another secret', () => {
    const a = chatUserId('ada@example.com', 'first-secret-of-16+');
    expect(a).toMatch(/^u_/);
    expect(a).not.toBe(chatUserId('ada@example.com'));
    expect(a).not.toBe(chatUserId('ada@example.com', 'other-secret-of-16+'));
  });
  it('always answers a valid userId that is not a dot segment (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (id) => {
        const out = chatUserId(id);
        expect(out).toMatch(USER_ID_PATTERN);
        expect(out).not.toMatch(/^\.+$/);
      }),
    );
  });
});
