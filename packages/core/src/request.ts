/**
 * Request headers as core reads them: lower-case names, a value or a list.
 * Node's `IncomingHttpHeaders` is one; a web `Headers` becomes one through
 * `headersOf` (`@idgate/core/adapter`).
 */
export interface RequestHeaders {
  readonly [name: string]: string | string[] | undefined;
  /** Single-valued headers core reads (a repeated `Cookie` is one `; `-joined string, as Node gives it). */
  readonly cookie?: string | undefined;
  readonly host?: string | undefined;
  readonly accept?: string | undefined;
  readonly origin?: string | undefined;
  readonly referer?: string | undefined;
  readonly 'content-type'?: string | undefined;
  readonly 'content-length'?: string | undefined;
  readonly 'sec-fetch-mode'?: string | undefined;
  readonly 'sec-fetch-dest'?: string | undefined;
  readonly 'sec-fetch-site'?: string | undefined;
}

/**
 * The neutral request every adapter builds from its framework's request:
 * what core needs to decide, nothing more.
 */
export interface IdentityRequest {
  method: string;
  /** Path and query as the client sent them (Express: `originalUrl`). */
  url: string;
  headers: RequestHeaders;
  /** Client IP as the framework resolved it (honours its trust-proxy setting). */
  ip: string | undefined;
  protocol: 'http' | 'https';
  /** Parsed cookies when the framework already has them (cookie-parser, @fastify/cookie). Never read for the session cookie: core reads only the raw `Cookie` header (`readCookie`). */
  cookies?: Record<string, string | undefined> | undefined;
}

/** The path part of a request URL, without query or fragment. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * True when the request is a top-level browser navigation (answer with a
 * redirect), false for API calls (answer with JSON). `Sec-Fetch-Mode` /
 * `Sec-Fetch-Dest` win when sent; else a GET/HEAD that accepts text/html.
 */
export function isNavigation(req: Pick<IdentityRequest, 'method' | 'headers'>): boolean {
  const mode = req.headers['sec-fetch-mode'];
  if (mode === 'navigate') return true;
  const dest = req.headers['sec-fetch-dest'];
  if (dest === 'document') return true;
  if (mode !== undefined || dest !== undefined) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = req.headers['accept'];
  return typeof accept === 'string' && accept.includes('text/html');
}

/** `proto://host` of the request as the server sees it. */
export function requestOrigin(req: Pick<IdentityRequest, 'protocol' | 'headers'>): string {
  return `${req.protocol}://${(req.headers.host ?? '').toLowerCase()}`;
}

function originOf(value: string): string | undefined {
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * CSRF check for state-changing posts: the request must come from our own
 * origin or one in `allowedOrigins`. Origin is checked first, then
 * `Sec-Fetch-Site`, then Referer; a request that sends none of them (curl, a
 * server) passes, since a browser always sends at least one on a cross-site post.
 */
export function isSameOriginPost(req: Pick<IdentityRequest, 'protocol' | 'headers'>, allowedOrigins: readonly string[]): boolean {
  const own = requestOrigin(req);
  const allowed = (o: string | undefined) => o !== undefined && (o === own || allowedOrigins.some((a) => originOf(a) === o));
  const origin = req.headers['origin'];
  if (typeof origin === 'string') return origin !== 'null' && allowed(originOf(origin));
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const referer = req.headers['referer'];
  if (typeof referer === 'string') return allowed(originOf(referer));
  return true;
}
