import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipVersion } from './ip.js';

const KNOWN = [
  '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', '',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::',
  '1::2::3', ':1::', '1:::2', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1.2.3.4::',
  'fe80::1%eth0', 'fe80::1%', 'fe80::1%a b', '12345::', 'g::1', '[::1]', '::ffff:01.2.3.4', '1:2:3:4:5::1.2.3.4', '::ffff:1.2.3.4:1',
];

describe('ipVersion agrees with node:net isIP', () => {
  it.each(KNOWN)('%j', (value) => {
    expect(ipVersion(value)).toBe(isIP(value));
  });
  it('over 20,000 generated strings from the address alphabet', () => {
    const token = fc.constantFrom('0', '1', '9', '25', '255', '256', '01', 'a', 'ff', 'ffff', 'fffff', 'g', ':', '::', '.', '%', 'eth0', '1.2.3.4');
    fc.assert(fc.property(fc.array(token, { maxLength: 14 }).map((t) => t.join('')), (value) => ipVersion(value) === isIP(value)), { numRuns: 20_000, seed: 7 });
  });
});
