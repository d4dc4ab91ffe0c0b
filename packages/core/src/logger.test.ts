import { describe, expect, it } from 'vitest';
import { redact, REDACT_MAX_DEPTH } from './logger.js';

const SECRET = 'hunter2-secret';

/** `{ a: { a: ... { password } } }`: the password's object nested `depth` levels down (`.a` repeated `depth` times). */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { password: SECRET, email: 'ada@example.com' };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('redact (issue 12, finding 6: depth)', () => {
  it('redacts the secret keys, whatever their case', () => {
    expect(redact({ email: 'a@b.co', Password: 'x', headers: { Cookie: 'c', authorization: 'Bearer k' }, identityId: 'i', apiKey: 'k', appSecret: 's' })).toEqual({
      email: 'a@b.co',
      Password: '[redacted]',
      headers: { Cookie: '[redacted]', authorization: '[redacted]' },
      identityId: '[redacted]',
      apiKey: '[redacted]',
      appSecret: '[redacted]',
    });
  });
  it('a password seven levels deep is redacted, its siblings kept', () => {
    const out = JSON.stringify(redact(nested(7)));
    expect(out).not.toContain(SECRET);
    expect(out).toContain('[redacted]');
    expect(out).toContain('ada@example.com');
  });
  it('a password 50 levels deep never passes through: the deep part becomes a marker', () => {
    const out = JSON.stringify(redact(nested(50)));
    expect(out).not.toContain(SECRET);
    expect(out).toContain('[depth]');
  });
  it('arrays count as levels too', () => {
    let value: unknown = [{ password: SECRET }];
    for (let i = 0; i < 60; i++) value = [value];
    expect(JSON.stringify(redact(value))).not.toContain(SECRET);
  });
  it('everything within the limit is redacted, not replaced', () => {
    const out = JSON.stringify(redact(nested(REDACT_MAX_DEPTH - 1)));
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('[depth]');
    expect(out).toContain('ada@example.com');
  });
  it('a cycle ends in a marker and its secrets are redacted', () => {
    const a: Record<string, unknown> = { password: SECRET, name: 'a' };
    const b: Record<string, unknown> = { parent: a, token: { secret: SECRET } };
    a.child = b;
    a.self = a;
    const out = redact(a) as Record<string, any>;
    expect(out.self).toBe('[circular]');
    expect(out.child.parent).toBe('[circular]');
    expect(JSON.stringify(out)).not.toContain(SECRET);
  });
  it('an object seen twice but not in a cycle is copied both times', () => {
    const shared = { password: SECRET, plan: 'pro' };
    expect(redact({ x: shared, y: [shared] })).toEqual({ x: { password: '[redacted]', plan: 'pro' }, y: [{ password: '[redacted]', plan: 'pro' }] });
  });
});
