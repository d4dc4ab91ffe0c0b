// Issue 12 item 7: one e-mail rule. idgate's core (login), @idgate/kyc and the
// mock upstream (which keeps its own copy: it imports nothing of idgate's)
// must give the same answer for every input, so the client refuses exactly
// what the upstream refuses and a client's bad e-mail never becomes a 503.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalEmail } from '@idgate/core/adapter';
import { checkCustomer, KycError } from '@idgate/kyc';
import { normalizeEmail as mockEmail } from '../packages/mock-upstream/src/bizkithub.js';

const CORPUS = [
  'demo@example.com', ' Demo@Example.COM ', 'é@example.com', 'jörg@example.com', 'e\u0301@example.com', '用户@例子.广告',
  'ada+tag@bücher.de', 'a(b@example.com', 'x@exa_mple.com', 'a b@example.com', '"a"@example.com', 'a..b@example.com',
  '.a@example.com', 'x@example', 'x@1.2.3.4', 'x@0x7f.1', 'x@ex%61mple.com', 'x@example.com.', 'x@-a.com', 'a@b@c.com',
  '💥@example.com', 'a\u200b@example.com', 'T\u0308om@example.com', '\u1fbc\u0301@example.com', 'x@ＥＸＡＭＰＬＥ.com', 'x@example。com', `${'a'.repeat(64)}@example.com`,
  `${'a'.repeat(65)}@example.com`, `${'é'.repeat(33)}@example.com`, `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(61)}.com`,
];

const kycEmail = (email: string): string | null => {
  try {
    return checkCustomer({ customerType: 'Individual', customerEmail: email, individual: { firstName: 'A', lastName: 'B' } }).customerEmail;
  } catch (err) {
    if (err instanceof KycError && err.code === 'KYC_INVALID_PARAMETERS') return null;
    throw err;
  }
};

describe('one e-mail rule: core, kyc and the mock upstream agree', () => {
  it.each(CORPUS)('%j', (email) => {
    const core = canonicalEmail(email);
    expect(mockEmail(email)).toBe(core);
    expect(kycEmail(email)).toBe(core);
  });

  it('property: the same answer for generated addresses and arbitrary strings', () => {
    const local = fc.stringMatching(/^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~()" \\éöü用-]{1,12}$/);
    const domain = fc.stringMatching(/^[a-zA-Z0-9._%ü-]{1,20}$/);
    fc.assert(fc.property(fc.oneof(fc.emailAddress(), fc.string(), fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`)), (email) => {
      const core = canonicalEmail(email);
      expect(mockEmail(email)).toBe(core);
      expect(kycEmail(email)).toBe(core);
    }), { numRuns: 2_000 });
  });
});
