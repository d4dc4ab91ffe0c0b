import type { IdgateConfig } from './config.js';
import type { IdentityRequest } from './request.js';

/**
 * Read one cookie from a raw `Cookie` header without parsing the rest: the
 * hot path's only string work. The first occurrence wins (browsers send the
 * most specific path first).
 * @example readCookie('a=1; identityId=abc', 'identityId') // 'abc'
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const n = name.length;
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at === -1) return undefined;
    from = at + n;
    if (at > 0) {
      const prev = header.charCodeAt(at - 1);
      if (prev !== 0x20 && prev !== 0x3b && prev !== 0x09) continue; // ' ', ';', tab
    }
    let eq = at + n;
    while (header.charCodeAt(eq) === 0x20) eq++;
    if (header.charCodeAt(eq) !== 0x3d) continue; // '='
    const end = header.indexOf(';', eq + 1);
    let value = end === -1 ? header.slice(eq + 1) : header.slice(eq + 1, end);
    if (value.charCodeAt(0) === 0x20 || value.charCodeAt(value.length - 1) === 0x20) value = value.trim();
    if (value.length > 1 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) value = value.slice(1, -1);
    return value;
  }
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
