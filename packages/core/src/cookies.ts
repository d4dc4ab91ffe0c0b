import type { IdgateConfig } from './config.js';
import type { IdentityRequest } from './request.js';

/** Space or horizontal tab: the only whitespace the `Cookie` grammar allows around names and values. */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Read one cookie from a raw `Cookie` header without parsing the rest: the
 * hot path's only string work.
 *
 * A name counts only where a cookie-pair starts (RFC 6265 §4.2.1): at the
 * start of the header or after `;`, with optional spaces/tabs between. A name
 * inside another cookie's value (`pref=dark identityId=X`) is never read, so
 * a cookie that a sibling host can set cannot smuggle the session cookie in.
 * The first occurrence wins (browsers send the most specific path first);
 * spaces/tabs around the value are trimmed, one pair of double quotes is
 * stripped, and a value containing `%` is percent-decoded (kept raw when
 * decoding fails), as the `cookie` package (cookie-parser) does.
 * @param header the raw `Cookie` header (`req.headers.cookie`)
 * @param name the cookie name, matched case-sensitively
 * @returns the value, or `undefined` when no cookie-pair has that name
 * @example readCookie('a=1; identityId=abc', 'identityId') // 'abc'
 * @example readCookie('pref=dark identityId=evil', 'identityId') // undefined
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || !name) return undefined;
  const at = header.indexOf(name);
  if (at === -1) return undefined;
  // The usual header: the name's first occurrence starts a pair (at the start
  // or after "; "), '=' follows it, and the value is neither padded nor quoted.
  // Anything else goes through the whole grammar below, from the same start.
  const eq = at + name.length;
  if ((at === 0 || (header.charCodeAt(at - 1) === 0x20 && header.charCodeAt(at - 2) === 0x3b)) && header.charCodeAt(eq) === 0x3d) {
    let end = header.indexOf(';', eq + 1);
    if (end === -1) end = header.length;
    const first = header.charCodeAt(eq + 1);
    const last = header.charCodeAt(end - 1);
    if (end > eq + 1 && first !== 0x22 && !isOws(first) && !isOws(last)) return decoded(header.slice(eq + 1, end));
  }
  return readPair(header, name, at);
}

/** A cookie value as the `cookie` package returns it: percent-decoded when it has a `%`, raw when decoding fails. */
function decoded(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The cookie grammar, from the first occurrence of `name` (at `first`) onward. */
function readPair(header: string, name: string, first: number): string | undefined {
  const len = header.length;
  const n = name.length;
  let from = first;
  while (from < len) {
    const at = header.indexOf(name, from);
    if (at === -1) return undefined;
    // Only spaces/tabs may stand between the previous ';' (or the start) and the name.
    let before = at - 1;
    while (before >= 0 && isOws(header.charCodeAt(before))) before--;
    let eq = at + n;
    if (before === -1 || header.charCodeAt(before) === 0x3b) {
      while (eq < len && isOws(header.charCodeAt(eq))) eq++;
    }
    if ((before !== -1 && header.charCodeAt(before) !== 0x3b) || header.charCodeAt(eq) !== 0x3d) {
      // Not this pair's name: the next candidate can only start after the next ';'.
      const semi = header.indexOf(';', at);
      if (semi === -1) return undefined;
      from = semi + 1;
      continue;
    }
    let end = header.indexOf(';', eq + 1);
    if (end === -1) end = len;
    let start = eq + 1;
    while (start < end && isOws(header.charCodeAt(start))) start++;
    while (end > start && isOws(header.charCodeAt(end - 1))) end--;
    if (end > start && header.charCodeAt(start) === 0x22 && header.charCodeAt(end - 1) === 0x22) {
      // A lone '"' becomes '' here, as in the cookie package.
      start++;
      end = Math.max(start, end - 1);
    }
    return decoded(header.slice(start, end));
  }
  return undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Hostname of a Host header value, without the port. */
export function hostnameOf(host: string | undefined): string {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * Whether the session cookie gets `Secure`: always, except `secure: 'auto'`
 * on plain-http localhost outside production (browsers drop Secure cookies
 * sent over http, which would make local development impossible).
 */
export function cookieIsSecure(config: IdgateConfig, req: Pick<IdentityRequest, 'protocol' | 'headers'>): boolean {
  const secure = config.cookie.secure;
  if (secure !== 'auto') return secure || config.cookie.hostPrefix;
  if (config.cookie.hostPrefix || config.environment === 'production' || req.protocol === 'https') return true;
  return !LOCAL_HOSTS.has(hostnameOf(req.headers.host));
}

function attributes(config: IdgateConfig, secure: boolean, maxAge: number): string {
  const sameSite = config.cookie.sameSite === 'strict' ? 'Strict' : 'Lax';
  return `; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=${sameSite}${secure ? '; Secure' : ''}`;
}

/**
 * The `Set-Cookie` value that stores a session: HttpOnly, SameSite, Path=/,
 * Max-Age, Secure (see `cookieIsSecure`).
 */
export function sessionCookie(config: IdgateConfig, identityId: string, secure: boolean, maxAge = Math.min(config.cookie.maxAge, config.cookie.absoluteLifetime)): string {
  return `${config.cookieName}=${identityId}${attributes(config, secure, maxAge)}`;
}

/** The `Set-Cookie` value that clears the session cookie, with the same attributes it was set with. */
export function clearedCookie(config: IdgateConfig, secure: boolean): string {
  return `${config.cookieName}=${attributes(config, secure, 0)}`;
}
