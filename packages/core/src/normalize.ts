import { isIP } from 'node:net';
import { RequestError } from './errors.js';

// Deliberately plain: one @, a dot in the domain, no spaces. The upstream
// canonicalizes further; we only refuse what cannot be an address.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * Trim and lowercase an e-mail; throws `RequestError('BAD_REQUEST')` for a
 * value that is not an address.
 * @example normalizeEmail('  Jan@Example.COM ') // 'jan@example.com'
 */
export function normalizeEmail(value: unknown): string {
  if (typeof value !== 'string') throw new RequestError('BAD_REQUEST', 'email is required');
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw new RequestError('BAD_REQUEST', 'email is not a valid address');
  return email;
}

/**
 * Normalize `customerRealIp` as seed 001 does: `::1`, `0.0.0.0`, `localhost`
 * and empty become `127.0.0.1`, `::ffff:a.b.c.d` becomes `a.b.c.d`; anything
 * that is not an IP throws `RequestError('BAD_REQUEST')` before any call.
 * @example normalizeIp('::ffff:10.0.0.1') // '10.0.0.1'
 */
export function normalizeIp(value: unknown): string {
  if (value === undefined || value === null) return '127.0.0.1';
  if (typeof value !== 'string') throw new RequestError('BAD_REQUEST', 'customerRealIp must be a string');
  let ip = value.trim();
  if (ip === '' || ip === '::1' || ip === '0.0.0.0' || ip.toLowerCase() === 'localhost') return '127.0.0.1';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) ip = mapped[1];
  if (isIP(ip) === 0) throw new RequestError('BAD_REQUEST', 'customerRealIp is not a valid IP address');
  return ip === '0.0.0.0' ? '127.0.0.1' : ip;
}

/**
 * True when `value` has the upstream identityId's shape: 32 ASCII alphanumerics
 * (what `/^[A-Za-z0-9]{32}$/` accepts). It runs on every request: a loop over
 * the char codes costs about half what the regular expression did in a
 * loaded server (bench/PROFILE.md).
 */
export function isIdentityId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 32) return false;
  for (let i = 0; i < 32; i++) {
    const c = value.charCodeAt(i);
    // Outside 0-9 (48-57), A-Z (65-90) and a-z (97-122).
    if (c < 48 || (c > 57 && c < 65) || (c > 90 && c < 97) || c > 122) return false;
  }
  return true;
}
