import { domainToASCII } from 'node:url';
import { RequestError } from './errors.js';
import { ipVersion } from './ip.js';

const bytes = (s: string): number => new TextEncoder().encode(s).byteLength;

// idgate's one e-mail rule, shared by login (here), @idgate/kyc and, as a
// copy, the mock upstream (which imports nothing of ours); test/email.test.ts
// holds the three to the same answers. BizKitHub's login API says only "a standard email
// address", so idgate decides:
// - local part: RFC 5322 dot-atom (atext, dots only between atoms) widened by
//   RFC 6531 to non-ASCII letters, marks and digits (`jörg`, `é`, `用户`);
//   no quoted strings, comments, spaces, symbols or invisible characters;
//   at most 64 UTF-8 bytes;
// - domain: letters, digits, hyphens and dots, converted to ASCII by IDNA
//   (`bücher.de` → `xn--bcher-kva.de`), then at least two LDH labels of 1–63
//   characters, no label starting or ending with a hyphen, a last label that
//   is not all digits (no bare IP addresses), at most 253 characters;
// - the whole address at most 254 bytes; NFC, trimmed, lowercased.
const LOCAL = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The canonical form of an e-mail address under idgate's one rule (see the
 * comment above), or null when it is not an address: trimmed, NFC, lowercased,
 * the domain in its ASCII (IDNA) form. Used by login and `@idgate/kyc`.
 * @example canonicalEmail(' Jörg@Bücher.DE ') // 'jörg@xn--bcher-kva.de'
 * @example canonicalEmail('x@exa_mple.com') // null
 */
export function canonicalEmail(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 1024) return null;
  // NFC again after lowercasing, which can undo it: `T` + U+0308 has no precomposed
  // capital, but `t` + U+0308 composes to `ẗ`. Without it the output is not NFC and
  // not a fixed point, and an upstream that normalizes again looks up another address.
  const email = value.normalize('NFC').trim().toLowerCase().normalize('NFC');
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = email.slice(0, at);
  const rawDomain = email.slice(at + 1);
  if (bytes(local) > 64 || !LOCAL.test(local) || !DOMAIN_CHARS.test(rawDomain)) return null;
  // Only ASCII left as is: IDNA would also map look-alikes and full-width forms.
  const domain = /^[\x00-\x7f]*$/.test(rawDomain) ? rawDomain : domainToASCII(rawDomain);
  if (domain === '' || domain.length > 253) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1]!)) return null;
  const out = `${local}@${domain}`;
  return bytes(out) <= 254 ? out : null;
}

/**
 * Canonicalize an e-mail (see `canonicalEmail`); throws
 * `RequestError('BAD_REQUEST')` with a message for the client when it is not
 * an address, so a bad e-mail is a 400 before any upstream call.
 * @example normalizeEmail('  Jan@Example.COM ') // 'jan@example.com'
 */
export function normalizeEmail(value: unknown): string {
  if (typeof value !== 'string') throw new RequestError('BAD_REQUEST', 'Enter an e-mail address.');
  const email = canonicalEmail(value);
  if (email === null) throw new RequestError('BAD_REQUEST', 'Enter a valid e-mail address.');
  return email;
}

/**
 * Normalize `customerRealIp` as BizKitHub's `POST /api/v1/customer/login` documents it: `::1`, `0.0.0.0`, `localhost`
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
  if (ipVersion(ip) === 0) throw new RequestError('BAD_REQUEST', 'customerRealIp is not a valid IP address');
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
